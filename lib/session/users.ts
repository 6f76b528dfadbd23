import type { SessionData } from 'express-session';
import { ConfigError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { forEachBounded } from '../shared/bounded';
import { isLive, type SessionRecord } from './record';
import { readRecord, SCAN_CONCURRENCY } from './scan';
import type { UserSession } from './types';
import { ENTRY_GRACE_MS, type UserIndex } from './user-index';

const DIGEST = /^[A-Za-z0-9_-]{43}$/;

/** Whether `key` is exactly `<path>/<prefix><43 base64url chars>` (a key of this store; input from a request). */
export function isSessionKeyOf(path: string, prefix: string, key: unknown): key is string {
  if (typeof key !== 'string') return false;
  const head = `${path}/${prefix}`;
  return key.length === head.length + 43 && key.startsWith(head) && DIGEST.test(key.slice(head.length));
}

/** What the user operations need from the store. */
export interface UserParts {
  source: SecretProvider;
  index: UserIndex | undefined;
  userOf: ((session: SessionData) => string | undefined) | undefined;
  /** Ends one session through the store's destroy path (marks on KV v1, entry removal). */
  end(sid: string, key: string, user: string | undefined): Promise<void>;
}

/** The user `session` belongs to, by `userOf` (undefined: none, or no `userOf`). */
export function userOfSession(parts: UserParts, session: SessionData): string | undefined {
  if (!parts.userOf) return undefined;
  const user = parts.userOf(session);
  if (user === undefined || user === null || user === '') return undefined;
  if (typeof user !== 'string') throw new ConfigError('session store: userOf must return a string or undefined');
  return user;
}

function indexOf(parts: UserParts): UserIndex {
  if (!parts.index) throw new ConfigError('session store: sessionsOf/destroySessionsOf need the `userOf` option');
  return parts.index;
}

/** The indexed records of `user` that are live and still that user's; entries without a record (past the grace) are deleted. */
async function recordsOf(parts: UserParts, user: string): Promise<{ userName: string; found: { key: string; record: SessionRecord }[] }> {
  const index = indexOf(parts);
  const userName = await index.nameOf(user);
  const keys = await index.keysOf(userName);
  const found: { key: string; record: SessionRecord }[] = [];
  const now = Date.now();
  await forEachBounded(keys, SCAN_CONCURRENCY, async (key) => {
    const record = await readRecord(parts.source, key);
    if (record && record.user === userName && isLive(record, now)) found.push({ key, record });
    else if (!record && (await index.entryAge(userName, key, now)) > ENTRY_GRACE_MS) await index.remove(userName, key);
  });
  return { userName, found };
}

export async function sessionsOf(parts: UserParts, user: string): Promise<UserSession[]> {
  const { found } = await recordsOf(parts, user);
  return found
    .map(({ key, record }) => ({
      key,
      createdAt: record.created_at ?? record.last_seen_at ?? 0,
      lastSeenAt: record.last_seen_at ?? record.created_at ?? 0,
      expiresAt: record.expires_at,
    }))
    .sort((a, b) => a.createdAt - b.createdAt);
}

export async function destroySessionsOf(parts: UserParts, user: string, exceptKey: string | undefined): Promise<number> {
  const { userName, found } = await recordsOf(parts, user);
  let ended = 0;
  await forEachBounded(found, SCAN_CONCURRENCY, async ({ key, record }) => {
    if (key === exceptKey || record.sid === undefined) return;
    await parts.end(record.sid, key, userName);
    ended++;
  });
  return ended;
}

/** Sweeper repair: deletes entries whose record is gone (past the grace). Resolves with the entries deleted. */
export async function repairIndex(parts: UserParts, stopped: () => boolean): Promise<number> {
  if (!parts.index) return 0;
  const index = parts.index;
  let repaired = 0;
  for (const userName of await index.userNames()) {
    if (stopped()) break;
    const now = Date.now();
    await forEachBounded(
      await index.keysOf(userName),
      SCAN_CONCURRENCY,
      async (key) => {
        const record = await readRecord(parts.source, key).catch(() => undefined);
        if (record === null && (await index.entryAge(userName, key, now)) > ENTRY_GRACE_MS) {
          await index.remove(userName, key);
          repaired++;
        }
      },
      stopped,
    );
  }
  return repaired;
}

/** destroyByKey: `key` comes from a request, so it is validated strictly before any I/O. */
export async function destroyByKey(parts: UserParts, key: string, keys: { isSessionKey(key: string): boolean; keyOf(sid: string): string }): Promise<boolean> {
  if (!keys.isSessionKey(key)) return false;
  const entry = await parts.source.get(key);
  if (!entry) return false;
  const { sid, user } = entry.data;
  if (typeof sid !== 'string' || keys.keyOf(sid) !== key) return false;
  await parts.end(sid, key, typeof user === 'string' ? user : undefined);
  return true;
}
