import { durationSeconds } from '../shared/duration';
import { isValidSegment, parsePath } from '../providers/paths';
import { isScope, MAX_TOKEN_DESCRIPTION, MAX_TOKEN_NAME } from '../shared/token-limits';
import { ApiError } from './errors';
import type { TokenState } from './view';

export const MAX_SCOPES = 50;
export const MAX_SCOPE_LENGTH = 100;
const STATES: readonly TokenState[] = ['active', 'expiring', 'expired'];

/** Limits the router enforces on request bodies, in seconds. */
export interface Limits {
  maxTtl: number | null;
  maxGrace: number;
  allowedScopes: string[] | null;
  autoRotate: boolean;
  /** Folder every `delivery_path` must lie under (`autoRotate.pathPrefix`), normalised; null when autoRotate is off. */
  deliveryPrefix: string | null;
}

/** A valid `POST /tokens` body. `expiresIn` is seconds, null for none, undefined for the store's default. */
export interface CreateRequest {
  name: string;
  description: string;
  scopes: string[];
  expiresIn: number | null | undefined;
  /** Exact expiry (epoch ms) from `expires_at`, instead of `expiresIn`. */
  expiresAt?: number;
  deliveryPath: string | null;
}

/** A valid `POST /tokens/:id/rotate` body. */
export interface RotateRequest {
  graceSeconds: number | null;
  expiresIn: number | null | undefined;
}

const bad = (message: string) => new ApiError(400, 'invalid_request', message);

/**
 * Whether the secret path `path` lies strictly inside the folder `prefix` (both normalised, e.g.
 * "token-delivery/billing/api-token" is under "token-delivery"; "token-delivery" and
 * "token-deliveryX/a" are not).
 */
export function isUnderPrefix(path: string, prefix: string): boolean {
  return prefix !== '' && path.startsWith(`${prefix}/`) && path.length > prefix.length + 1;
}

function asObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw bad('The body must be a JSON object.');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw bad(`Unknown field(s): ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}. Allowed: ${allowed.join(', ')}.`);
  return body as Record<string, unknown>;
}

/** Seconds of a duration field (number of seconds or "30d"), or throws a 400 naming the field. */
export function seconds(value: unknown, field: string): number {
  const parsed = durationSeconds(value);
  if (parsed === undefined) throw bad(`${field} must be a number of seconds or a duration like "30d".`);
  return parsed;
}

function expiresIn(value: unknown, limits: Limits): number | null | undefined {
  if (value === undefined) {
    if (limits.maxTtl !== null) throw bad(`expires_in (or expires_at) is required: tokens must expire within ${limits.maxTtl} seconds.`);
    return undefined;
  }
  if (value === null) {
    if (limits.maxTtl !== null) throw bad(`expires_in cannot be null: tokens must expire within ${limits.maxTtl} seconds.`);
    return null;
  }
  const s = seconds(value, 'expires_in');
  if (s < 60) throw bad('expires_in must be at least 60 seconds.');
  if (limits.maxTtl !== null && s > limits.maxTtl) throw bad(`expires_in must be at most ${limits.maxTtl} seconds (maxTtl).`);
  return s;
}

/** ISO 8601 with a time and an offset, e.g. "2027-02-15T23:59:59.999+01:00" or "...Z". */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** `expires_at`: an exact time at least 60 s ahead and within `maxTtl`, as epoch ms. */
function expiresAt(value: unknown, limits: Limits, now: number): number {
  const ms = typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw bad('expires_at must be an ISO 8601 time with an offset, e.g. "2027-02-15T23:59:59.999Z".');
  if (ms - now < 60_000) throw bad('expires_at must be at least 60 seconds in the future.');
  if (limits.maxTtl !== null && ms - now > limits.maxTtl * 1000) throw bad(`expires_at must be at most ${limits.maxTtl} seconds from now (maxTtl).`);
  return ms;
}

function scopes(value: unknown, limits: Limits): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_SCOPES) throw bad(`scopes must be a list of at most ${MAX_SCOPES} scope names.`);
  for (const s of value) {
    if (typeof s !== 'string' || s.length > MAX_SCOPE_LENGTH || !isScope(s)) {
      throw bad(`Each scope must be 1-${MAX_SCOPE_LENGTH} printable ASCII characters without spaces, quotes or backslashes.`);
    }
    if (limits.allowedScopes && !limits.allowedScopes.includes(s))
      throw bad(`Scope ${JSON.stringify(s)} is not allowed. Allowed: ${limits.allowedScopes.join(', ')}.`);
  }
  return [...new Set(value as string[])];
}

/** Validates a `POST /tokens` body (`now`, epoch ms, for `expires_at`). */
export function parseCreate(body: unknown, limits: Limits, now: number = Date.now()): CreateRequest {
  const b = asObject(body, ['name', 'description', 'scopes', 'expires_in', 'expires_at', 'delivery_path']);
  if (body === undefined || body === null) throw bad('The body must be a JSON object with at least a name.');
  const name = typeof b.name === 'string' ? b.name.trim() : b.name;
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_TOKEN_NAME) throw bad(`name is required: 1-${MAX_TOKEN_NAME} characters.`);
  if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > MAX_TOKEN_DESCRIPTION)) {
    throw bad(`description must be a string of at most ${MAX_TOKEN_DESCRIPTION} characters.`);
  }
  let deliveryPath: string | null = null;
  if (b.delivery_path !== undefined && b.delivery_path !== null) {
    if (!limits.autoRotate) throw bad('delivery_path needs automatic rotation, which is not enabled on this server (autoRotate option).');
    if (typeof b.delivery_path !== 'string') throw bad('delivery_path must be a secret path like "apps/billing/api-token".');
    try {
      deliveryPath = parsePath(b.delivery_path).join('/');
    } catch {
      throw bad('delivery_path must be "/"-separated segments of [A-Za-z0-9._:@+=-].');
    }
    const prefix = limits.deliveryPrefix ?? '';
    if (!isUnderPrefix(deliveryPath, prefix)) {
      throw bad(`delivery_path must lie under "${prefix}/" (autoRotate.pathPrefix), e.g. "${prefix}/billing/api-token".`);
    }
  }
  if (b.expires_at !== undefined && b.expires_in !== undefined) throw bad('Give expires_in or expires_at, not both.');
  const at = b.expires_at === undefined ? undefined : expiresAt(b.expires_at, limits, now);
  const ttl = at === undefined ? expiresIn(b.expires_in, limits) : undefined;
  if (deliveryPath !== null && at === undefined && (ttl === null || ttl === undefined)) {
    throw bad('A token with a delivery_path must have expires_in or expires_at: it is rotated at 2/3 of its lifetime.');
  }
  const description = (b.description as string | undefined) ?? '';
  return { name, description, scopes: scopes(b.scopes, limits), expiresIn: ttl, ...(at === undefined ? {} : { expiresAt: at }), deliveryPath };
}

/** "7 days", "24 hours" or "90 seconds". */
const formatDays = (s: number): string => {
  const [n, unit] = s % 86_400 === 0 ? [s / 86_400, 'day'] : s % 3600 === 0 ? [s / 3600, 'hour'] : [s, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
};

/** Default longest rotation grace (`maxGrace`), seconds: 7 days. */
export const DEFAULT_MAX_GRACE = 7 * 86_400;

/**
 * A rotation grace (seconds or "1h") as seconds, null for none; at most `maxGrace` seconds. Shared
 * by the API, the page (through the API) and the CLI's `rotate --grace`.
 */
export function parseGrace(value: unknown, maxGrace: number = DEFAULT_MAX_GRACE): number | null {
  if (value === undefined || value === null) return null;
  const s = seconds(value, 'grace');
  if (s > maxGrace) throw bad(`grace must be at most ${maxGrace} seconds (${formatDays(maxGrace)}).`);
  return s > 0 ? s : null;
}

/** Validates a `POST /tokens/:id/rotate` body. */
export function parseRotate(body: unknown, limits: Limits): RotateRequest {
  const b = asObject(body, ['grace', 'expires_in']);
  return { graceSeconds: parseGrace(b.grace, limits.maxGrace), expiresIn: b.expires_in === undefined ? undefined : expiresIn(b.expires_in, limits) };
}

/** Checks `:id` is a token id (a safe path segment) before any backend call. */
export function parseId(id: unknown): string {
  if (typeof id !== 'string' || !isValidSegment(id)) throw bad('The id in the URL is not a token id (letters, digits and ._:@+=- only).');
  return id;
}

/** Validates `?state=`. */
export function parseStateFilter(value: unknown): TokenState | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !(STATES as readonly string[]).includes(value)) throw bad(`state must be one of ${STATES.join(', ')}.`);
  return value as TokenState;
}

/** Most tokens one leak report may carry. */
export const MAX_LEAKED_PER_REPORT = 100;
/** Longest string accepted as a reported token (a default token is 64 characters). */
export const MAX_LEAKED_TOKEN_LENGTH = 200;

/** Validates a `POST /tokens/leaked` body: `{ tokens: [...] }`, 1-100 strings of 1-200 characters. Says nothing about what they are. */
export function parseLeakReport(body: unknown): string[] {
  if (body === undefined || body === null) throw bad('The body must be a JSON object like { "tokens": ["..."] }.');
  const { tokens } = asObject(body, ['tokens']);
  const shape = `tokens must be a list of 1-${MAX_LEAKED_PER_REPORT} strings of 1-${MAX_LEAKED_TOKEN_LENGTH} characters.`;
  if (!Array.isArray(tokens) || tokens.length < 1 || tokens.length > MAX_LEAKED_PER_REPORT) throw bad(shape);
  for (const t of tokens) if (typeof t !== 'string' || t.length < 1 || t.length > MAX_LEAKED_TOKEN_LENGTH) throw bad(shape);
  return tokens as string[];
}
