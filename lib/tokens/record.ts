import { durationSeconds } from '../shared/duration';
import { parsePath } from '../providers/paths';
import { isScope, MAX_CREATED_BY, MAX_TOKEN_DESCRIPTION, MAX_TOKEN_NAME } from '../shared/token-limits';
import { TokenError } from './errors';
import { isSupportedHash } from './hash';
import type { TokenInfo, TokenRecord } from './types';

/** What `TokenStore.create` accepts. */
export interface CreateTokenInput {
  name: string;
  description?: string;
  scopes?: string[];
  /** Lifetime: seconds or a duration like "30d"; null for none. Default: the store's `ttl`. */
  expiresIn?: number | string | null;
  /** Exact expiry instead of `expiresIn` (epoch ms or ISO 8601), stored as given; must be in the future. */
  expiresAt?: number | string;
  /** Who created it (free text, e.g. a user name), shown in the API. */
  createdBy?: string | null;
  /** Secret path where the admin router's automatic rotation delivers new secrets. Default none. */
  deliveryPath?: string | null;
}

const invalid = (message: string) => new TokenError('INVALID_TOKEN_INPUT', message);

function isValidPath(path: unknown): boolean {
  try {
    return typeof path === 'string' && parsePath(path).length > 0;
  } catch {
    return false;
  }
}

/** Checks create() input, throwing TokenError naming the field. */
export function checkCreateInput(input: CreateTokenInput): {
  name: string;
  description: string;
  scopes: string[];
  createdBy: string | null;
  deliveryPath: string | null;
} {
  if (typeof input !== 'object' || input === null) throw invalid('create() needs { name, description?, scopes?, expiresIn?, createdBy? }');
  const { name, description = '', scopes = [], createdBy = null } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.trim().length > MAX_TOKEN_NAME)
    throw invalid(`name must be a non-empty string of at most ${MAX_TOKEN_NAME} characters`);
  if (typeof description !== 'string' || description.length > MAX_TOKEN_DESCRIPTION)
    throw invalid(`description must be a string of at most ${MAX_TOKEN_DESCRIPTION} characters`);
  if (!Array.isArray(scopes) || !scopes.every(isScope)) {
    throw invalid('scopes must be a list of scope names (printable ASCII, no spaces, quotes or backslashes)');
  }
  if (createdBy !== null && (typeof createdBy !== 'string' || createdBy.length > MAX_CREATED_BY)) throw invalid('createdBy must be a string');
  const deliveryPath = input.deliveryPath ?? null;
  if (deliveryPath !== null && !isValidPath(deliveryPath)) throw invalid('deliveryPath must be a secret path of "/"-separated segments of [A-Za-z0-9._:@+=-]');
  return { name: name.trim(), description, scopes: [...new Set(scopes)], createdBy, deliveryPath };
}

/** Longest lifetime or grace accepted: 100 years, in seconds. */
export const MAX_DURATION_SECONDS = 100 * 365.25 * 86_400;

/** Parses a lifetime option into ms: undefined stays undefined, null means none. */
export function durationMs(value: number | string | null | undefined, field: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  const seconds = durationSeconds(value);
  if (seconds === undefined) throw invalid(`${field} must be a number of seconds or a duration like "30d"`);
  if (seconds <= 0) throw invalid(`${field} must be greater than zero`);
  // Beyond this, expiry times stop being valid dates; "no expiry" is null, not a huge number.
  if (seconds > MAX_DURATION_SECONDS) throw invalid(`${field} must be at most 100 years (use null for no expiry)`);
  return Math.round(seconds * 1000);
}

const isTime = (v: unknown): v is string | null => v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v)));
const optionalTime = (v: unknown): boolean => v === undefined || isTime(v);

const isRetiredList = (v: unknown): boolean =>
  Array.isArray(v) &&
  v.every((e) => typeof e === 'object' && e !== null && isSupportedHash((e as { hash?: unknown }).hash) && isTime((e as { until?: unknown }).until ?? null));

/** The stored data as a TokenRecord, or null when it is not one (foreign or damaged data). */
export function parseRecord(data: Record<string, unknown>, id: string): TokenRecord | null {
  const r = data as Partial<TokenRecord>;
  const meta = r.metadata;
  if (r.id !== id || r.method !== 'TOKEN' || !isSupportedHash(r.credential_hash)) return null;
  if (!Array.isArray(r.scopes) || !r.scopes.every((s) => typeof s === 'string')) return null;
  if (typeof meta !== 'object' || meta === null || typeof meta.name !== 'string') return null;
  if (!isTime(r.created_at ?? null) || !isTime(r.expires_at ?? null) || !isTime(r.last_used_at ?? null)) return null;
  if (!optionalTime(r.rotated_at) || !optionalTime(r.previous_expires_at)) return null;
  if (r.previous_credential_hash != null && !isSupportedHash(r.previous_credential_hash)) return null;
  if (r.delivery_path != null && typeof r.delivery_path !== 'string') return null;
  if (r.retired_credentials !== undefined && !isRetiredList(r.retired_credentials)) return null;
  return r as TokenRecord;
}

/** The public view of a stored record: no hashes. */
export function toInfo(r: TokenRecord): TokenInfo {
  return {
    id: r.id,
    name: r.metadata.name,
    description: r.metadata.description ?? '',
    scopes: [...r.scopes],
    createdBy: r.metadata.created_by ?? null,
    createdAt: r.created_at ?? null,
    expiresAt: r.expires_at ?? null,
    lastUsedAt: r.last_used_at ?? null,
    rotatedAt: r.rotated_at ?? null,
    previousExpiresAt: r.previous_credential_hash ? (r.previous_expires_at ?? null) : null,
    source: 'store',
    ...(r.delivery_path ? { deliveryPath: r.delivery_path } : {}),
  };
}

/** Epoch ms of an ISO time, or null. */
export const epoch = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null);
/** ISO string of epoch ms. */
export const iso = (ms: number): string => new Date(ms).toISOString();
