import { BackendError } from '../errors';

/** What is stored at `<path>/<prefix><sid>`. `expires_at` is ms since the epoch; null = never (disableTTL). */
export interface SessionRecord {
  session: string;
  expires_at: number | null;
}

export function toData(session: string, expiresAt: number | null): Record<string, unknown> {
  return { session, expires_at: expiresAt };
}

/** Validates a stored record; a malformed one is an error (a 500), never "no session". */
export function fromData(path: string, data: Record<string, unknown>): SessionRecord {
  const { session, expires_at } = data;
  const expiryOk = expires_at === null || (typeof expires_at === 'number' && Number.isFinite(expires_at));
  if (typeof session !== 'string' || !expiryOk) {
    throw new BackendError(`"${path}" is not a session record ({ session, expires_at }); delete it or fix the store's path/prefix.`);
  }
  return { session, expires_at: expires_at as number | null };
}

/** Expired means at or past `expires_at`, to the millisecond. */
export function isLive(record: SessionRecord, now: number): boolean {
  return record.expires_at === null || record.expires_at > now;
}
