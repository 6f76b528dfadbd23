import { parseDuration } from '../config/duration';
import { isValidSegment, parsePath } from '../providers/paths';
import { ApiError } from './errors';
import type { TokenState } from './view';

export const MAX_NAME = 100;
export const MAX_DESCRIPTION = 500;
export const MAX_SCOPES = 50;
export const MAX_SCOPE_LENGTH = 100;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
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
  if (typeof value !== 'number' && typeof value !== 'string') throw bad(`${field} must be a number of seconds or a duration like "30d".`);
  let parsed: number;
  try {
    parsed = parseDuration(value);
  } catch {
    throw bad(`${field} must be a number of seconds or a duration like "30d".`);
  }
  return parsed;
}

function expiresIn(value: unknown, limits: Limits): number | null | undefined {
  if (value === undefined) {
    if (limits.maxTtl !== null) throw bad(`expires_in is required: tokens must expire within ${limits.maxTtl} seconds.`);
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

function scopes(value: unknown, limits: Limits): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_SCOPES) throw bad(`scopes must be a list of at most ${MAX_SCOPES} scope names.`);
  for (const s of value) {
    if (typeof s !== 'string' || s.length > MAX_SCOPE_LENGTH || !SCOPE.test(s)) {
      throw bad(`Each scope must be 1-${MAX_SCOPE_LENGTH} printable ASCII characters without spaces, quotes or backslashes.`);
    }
    if (limits.allowedScopes && !limits.allowedScopes.includes(s)) throw bad(`Scope ${JSON.stringify(s)} is not allowed. Allowed: ${limits.allowedScopes.join(', ')}.`);
  }
  return [...new Set(value as string[])];
}

/** Validates a `POST /tokens` body. */
export function parseCreate(body: unknown, limits: Limits): CreateRequest {
  const b = asObject(body, ['name', 'description', 'scopes', 'expires_in', 'delivery_path']);
  if (body === undefined || body === null) throw bad('The body must be a JSON object with at least a name.');
  const name = typeof b.name === 'string' ? b.name.trim() : b.name;
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_NAME) throw bad(`name is required: 1-${MAX_NAME} characters.`);
  if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > MAX_DESCRIPTION)) {
    throw bad(`description must be a string of at most ${MAX_DESCRIPTION} characters.`);
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
  const ttl = expiresIn(b.expires_in, limits);
  if (deliveryPath !== null && (ttl === null || ttl === undefined)) throw bad('A token with a delivery_path must have expires_in: it is rotated at 2/3 of its lifetime.');
  return { name, description: (b.description as string | undefined) ?? '', scopes: scopes(b.scopes, limits), expiresIn: ttl, deliveryPath };
}

/** Validates a `POST /tokens/:id/rotate` body. */
export function parseRotate(body: unknown, limits: Limits): RotateRequest {
  const b = asObject(body, ['grace', 'expires_in']);
  let graceSeconds: number | null = null;
  if (b.grace !== undefined && b.grace !== null) {
    const s = seconds(b.grace, 'grace');
    if (s > limits.maxGrace) throw bad(`grace must be at most ${limits.maxGrace} seconds.`);
    graceSeconds = s > 0 ? s : null;
  }
  return { graceSeconds, expiresIn: b.expires_in === undefined ? undefined : expiresIn(b.expires_in, limits) };
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
