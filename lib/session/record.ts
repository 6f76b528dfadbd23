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
  /** The user's index name (HMAC of the user id, see user-index.ts), when `userOf` named one. */
  user?: string;
  /** ms; first write of this session (absent on records written before it was kept). */
  created_at?: number;
  /** ms; last set/touch that wrote. */
  last_seen_at?: number;
}

/** What a write carries besides the session: its user's index name and creation time. */
export interface RecordMeta {
  user?: string;
  createdAt?: number;
}

export function toData(session: string, expiresAt: number | null, sid: string, meta: RecordMeta = {}, now = Date.now()): Record<string, unknown> {
  const data: Record<string, unknown> = { session, expires_at: expiresAt, sid, created_at: meta.createdAt ?? now, last_seen_at: now };
  if (meta.user !== undefined) data.user = meta.user;
  return data;
}

/** Validates a stored record; a malformed one is an error (a 500), never "no session". */
export function fromData(path: string, data: Record<string, unknown>): SessionRecord {
  const { session, expires_at, sid } = data;
  const expiryOk = expires_at === null || (typeof expires_at === 'number' && Number.isFinite(expires_at));
  if (typeof session !== 'string' || !expiryOk || !(sid === undefined || typeof sid === 'string')) {
    throw new BackendError(`"${path}" is not a session record ({ session, expires_at, sid }); delete it or fix the store's path/prefix.`);
  }
  const record: SessionRecord = { session, expires_at: expires_at as number | null };
  if (typeof sid === 'string') record.sid = sid;
  if (typeof data.user === 'string') record.user = data.user;
  if (typeof data.created_at === 'number') record.created_at = data.created_at;
  if (typeof data.last_seen_at === 'number') record.last_seen_at = data.last_seen_at;
  return record;
}

/** Expired means at or past `expires_at`, to the millisecond. */
export function isLive(record: SessionRecord, now: number): boolean {
  return record.expires_at === null || record.expires_at > now;
}
