import { BackendError } from '../errors';

/**
 * What is stored at `<path>/<prefix><sidDigest(sid)>`. `expires_at` is ms since the epoch; null =
 * never (disableTTL). `sid` is the real session id: it lives in the data (which Vault audit logs
 * HMAC and the file provider can encrypt), never in the key. Records written before keys were
 * hashed (at `<path>/<prefix><sid>`) have no `sid`.
 */
export interface SessionRecord {
  session: string;
  expires_at: number | null;
  sid?: string;
}

export function toData(session: string, expiresAt: number | null, sid: string): Record<string, unknown> {
  return { session, expires_at: expiresAt, sid };
}

/** Validates a stored record; a malformed one is an error (a 500), never "no session". */
export function fromData(path: string, data: Record<string, unknown>): SessionRecord {
  const { session, expires_at, sid } = data;
  const expiryOk = expires_at === null || (typeof expires_at === 'number' && Number.isFinite(expires_at));
  if (typeof session !== 'string' || !expiryOk || !(sid === undefined || typeof sid === 'string')) {
    throw new BackendError(`"${path}" is not a session record ({ session, expires_at, sid }); delete it or fix the store's path/prefix.`);
  }
  return sid === undefined ? { session, expires_at: expires_at as number | null } : { session, expires_at: expires_at as number | null, sid };
}

/** Expired means at or past `expires_at`, to the millisecond. */
export function isLive(record: SessionRecord, now: number): boolean {
  return record.expires_at === null || record.expires_at > now;
}
