import { createHmac, randomBytes } from 'node:crypto';
import { ConflictError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { forEachBounded } from '../shared/bounded';

/** Folder (under the store's `path`) of the per-user index; never a session key (keys are `<prefix><43 chars>` leaves). */
export const USERS = 'users';
/** Leaf inside USERS holding the random HMAC key user names are computed with. */
const KEY_NAME = 'index-key';
/** An entry whose record is absent is deleted only once older than this (a create writes the entry just before its record). */
export const ENTRY_GRACE_MS = 10 * 60_000;

/**
 * The per-user index: one entry per session at `<path>/users/<userName>/<session key name>`,
 * where userName = base64url(HMAC-SHA256(key, user id)) with a random key the store keeps in the
 * backend itself (created create-only, read back on conflict, read once per process), so user ids
 * (often e-mails, low entropy) never appear in a path and cannot be recovered by a dictionary.
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

  private async loadKey(): Promise<Buffer> {
    const path = `${this.path}/${USERS}/${KEY_NAME}`;
    const found = await this.provider.get(path);
    if (typeof found?.data.key === 'string') return Buffer.from(found.data.key, 'base64url');
    try {
      await this.provider.put(path, { key: randomBytes(32).toString('base64url') }, { cas: 0 });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
    const stored = await this.provider.get(path);
    if (typeof stored?.data.key !== 'string') throw new ConflictError(path, 0, undefined);
    return Buffer.from(stored.data.key, 'base64url');
  }
}
