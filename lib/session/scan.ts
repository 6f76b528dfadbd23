import { BackendError } from '../errors';
import { isValidSegment } from '../providers/paths';
import type { SecretProvider } from '../providers/types';
import { forEachBounded } from '../shared/bounded';
import { fromData, isLive, type SessionRecord } from './record';

/** Calls in flight for scans (`all`, `ids`, `length`, `clear`, sweeps). */
export const SCAN_CONCURRENCY = 8;

/** Where one store's sessions live: keys `<path>/<prefix><digest>`, and the key of a session id. */
export interface SessionKeys {
  readonly path: string;
  readonly prefix: string;
  keyOf(sid: string): string;
}

/** The error for a record under a session's key that is not that session's (copied or edited). */
export const misplaced = (key: string) => new BackendError(`"${key}" is not a session record: its sid is missing or is not the id this key is for. Delete it.`);

/** The session record at `key`, or null when absent. */
export async function readRecord(provider: SecretProvider, key: string): Promise<SessionRecord | null> {
  const entry = await provider.get(key);
  return entry ? fromData(key, entry.data) : null;
}

/** The store's keys under `path` (folders and other prefixes left out), old-layout ones included. */
export async function listSessionKeys(provider: SecretProvider, keys: SessionKeys): Promise<string[]> {
  const names = await provider.list(keys.path);
  const ours = names.filter((n) => !n.endsWith('/') && n.length > keys.prefix.length && n.startsWith(keys.prefix) && isValidSegment(n));
  return ours.map((n) => `${keys.path}/${n}`);
}

/**
 * id -> record of every live session, in listing order. Records without a `sid` (written before
 * keys were hashed, unreachable now) are left out; the sweeper deletes them once expired.
 */
export async function liveSessionRecords(provider: SecretProvider, keys: SessionKeys): Promise<Map<string, SessionRecord>> {
  const listed = await listSessionKeys(provider, keys);
  const records: (SessionRecord | null)[] = new Array(listed.length).fill(null);
  const now = Date.now();
  await forEachBounded(listed, SCAN_CONCURRENCY, async (key, i) => {
    const record = await readRecord(provider, key);
    if (!record || record.sid === undefined) return;
    if (keys.keyOf(record.sid) !== key) throw misplaced(key);
    if (isLive(record, now)) records[i] = record;
  });
  const live = new Map<string, SessionRecord>();
  records.forEach((record) => {
    if (record?.sid !== undefined) live.set(record.sid, record);
  });
  return live;
}

/**
 * Deletes the expired sessions among `keys`, reading through `source` (the provider as given, so a
 * sweep does not flood a cache) and deleting through `provider`. Stops taking keys once `stop()`
 * is true. Resolves with the number deleted.
 */
export async function deleteExpired(keys: readonly string[], source: SecretProvider, provider: SecretProvider, stop: () => boolean): Promise<number> {
  let deleted = 0;
  await forEachBounded(
    keys,
    SCAN_CONCURRENCY,
    async (key) => {
      const record = await readRecord(source, key).catch(() => null); // a malformed record is left for a human
      if (record && !isLive(record, Date.now())) {
        await provider.delete(key);
        deleted++;
      }
    },
    stop,
  );
  return deleted;
}
