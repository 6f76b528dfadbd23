import { createHmac, randomBytes } from 'node:crypto';
import { ConflictError } from '../errors';
import { readSettled, writeSettled } from '../providers/settled-write';
import type { SecretEntry, SecretProvider } from '../providers/types';
import { forEachBounded } from '../shared/bounded';

/** Folder (under the store's `path`) of the per-user index; never a session key (keys are `<prefix><43 chars>` leaves). */
export const USERS = 'users';
/** Leaf inside USERS holding the random HMAC key user names are computed with. */
const KEY_NAME = 'index-key';
/** An entry whose record is absent is deleted only once older than this (a create writes the entry just before its record). */
export const ENTRY_GRACE_MS = 10 * 60_000;
/**
 * Without check-and-set (KV v1), an index key written less than this ago is read again after the
 * settle delay before it is trusted: a racer that read "absent" may still be writing its own.
 * Racers write within the settle delay of one another; the rest is margin for clock skew between
 * instances (the age is taken from the writer's clock).
 */
export const YOUNG_KEY_MS = 10 * 60_000;

/**
 * The per-user index: one entry per session at `<path>/users/<userName>/<session key name>`,
 * where userName = base64url(HMAC-SHA256(key, user id)) with a random key the store keeps in the
 * backend itself (created create-only, read back on conflict, read once per process; see loadKey
 * for KV v1), so user ids (often e-mails, low entropy) never appear in a path and cannot be
 * recovered by a dictionary.
 */
export class UserIndex {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly provider: SecretProvider,
    private readonly path: string,
  ) {}

  /** The name user `user` is indexed under (never the id itself). */
  async nameOf(user: string): Promise<string> {
    return createHmac('sha256', await this.hmacKey())
      .update(user, 'utf8')
      .digest('base64url');
  }

  /** Records that the session at `key` belongs to user `userName` (written before the record). */
  async add(userName: string, key: string, now: number): Promise<void> {
    await this.provider.put(this.entryPath(userName, key), { created_at: now }, { maxVersions: 1 });
  }

  async remove(userName: string, key: string): Promise<void> {
    await this.provider.delete(this.entryPath(userName, key));
  }

  /** Session keys listed for `userName`, with the time each entry was written. */
  async keysOf(userName: string): Promise<string[]> {
    const names = await this.provider.list(`${this.path}/${USERS}/${userName}`);
    return names.filter((n) => !n.endsWith('/')).map((n) => `${this.path}/${n}`);
  }

  async entryAge(userName: string, key: string, now: number): Promise<number> {
    const entry = await this.provider.get(this.entryPath(userName, key));
    const at = entry?.data.created_at;
    return typeof at === 'number' ? now - at : Number.POSITIVE_INFINITY;
  }

  /** Every user name with entries. */
  async userNames(): Promise<string[]> {
    const names = await this.provider.list(`${this.path}/${USERS}`);
    return names.filter((n) => n.endsWith('/')).map((n) => n.slice(0, -1));
  }

  /** Deletes every entry (the HMAC key stays: other instances hold it). */
  async clear(concurrency: number): Promise<void> {
    for (const userName of await this.userNames()) {
      const keys = await this.keysOf(userName);
      await forEachBounded(keys, concurrency, (key) => this.remove(userName, key));
    }
  }

  private entryPath(userName: string, key: string): string {
    return `${this.path}/${USERS}/${userName}/${key.slice(this.path.length + 1)}`;
  }

  private hmacKey(): Promise<Buffer> {
    this.key ??= this.loadKey().catch((err: unknown) => {
      this.key = undefined;
      throw err;
    });
    return this.key;
  }

  /**
   * The index key as every instance will use it. With check-and-set: created create-only, the
   * first write wins and is never replaced, so whatever is read is final. Without (KV v1): each
   * racer writes its own key, waits the settle delay and uses what it reads back (all read the last
   * write); a key younger than YOUNG_KEY_MS may still be replaced by such a racer, so it too is read
   * again after the delay before it is trusted. Either way the key is settled before nameOf
   * resolves, so no entry and no record is ever written under a name computed with a losing key.
   */
  private async loadKey(): Promise<Buffer> {
    const path = `${this.path}/${USERS}/${KEY_NAME}`;
    let stored = await this.provider.get(path);
    if ((await this.provider.supportsCheckAndSet?.()) === false) {
      if (keyIn(stored) === undefined) stored = await writeSettled(this.provider, path, freshKey(Date.now()));
      else if (isYoung(stored, Date.now())) stored = await readSettled(this.provider, path);
    } else if (keyIn(stored) === undefined) {
      try {
        await this.provider.put(path, freshKey(Date.now()), { cas: 0 });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
      stored = await this.provider.get(path);
    }
    const key = keyIn(stored);
    if (key === undefined) throw new ConflictError(path, 0, undefined);
    return Buffer.from(key, 'base64url');
  }
}

function freshKey(now: number): Record<string, unknown> {
  return { key: randomBytes(32).toString('base64url'), created_at: now };
}

function keyIn(entry: SecretEntry | null): string | undefined {
  const key = entry?.data.key;
  return typeof key === 'string' ? key : undefined;
}

/** Whether the key was written less than YOUNG_KEY_MS ago (or is dated in the future: clock skew). Keys without a date are old. */
function isYoung(entry: SecretEntry | null, now: number): boolean {
  const at = entry?.data.created_at;
  return typeof at === 'number' && now - at < YOUNG_KEY_MS;
}
