import type { SecretProvider } from '../providers/types';
import { forEachBounded } from '../shared/bounded';

/** Folder (under the store's `path`) of the marks of ended sessions; never a session key (keys hold a 43-character hash). */
export const ENDED = 'ended';

/** Shortest time an ended mark is kept, in ms (one day). */
const MIN_MARK_MS = 86_400_000;

/**
 * Marks of ended sessions, for backends without check-and-set (KV v1), at
 * `<path>/ended/<session key name>` = `{ ended_at, expires_at }` (ms). `destroy` writes the mark
 * before it deletes the record; `get` refuses a record that has a mark, and `set`/`touch` look for
 * a mark after writing and delete the record again when there is one. So a save racing a destroy
 * can bring the record back only until the saving request's own check (one backend round trip),
 * and no `get` returns it even then. Marks are kept for at least a day (or the store's numeric
 * `ttl`, when longer); the sweeper deletes a marked record it finds and the mark once expired.
 */
export class EndedMarks {
  private readonly lifetimeMs: number;

  constructor(
    private readonly provider: SecretProvider,
    private readonly path: string,
    ttlSeconds: number | undefined,
  ) {
    this.lifetimeMs = Math.max(MIN_MARK_MS, (ttlSeconds ?? 0) * 1000);
  }

  /** Marks the session stored at `key` as ended. */
  async mark(key: string, now: number): Promise<void> {
    await this.provider.put(this.markPath(key), { ended_at: now, expires_at: now + this.lifetimeMs });
  }

  /** Whether the session stored at `key` was ended. */
  async has(key: string): Promise<boolean> {
    return (await this.provider.get(this.markPath(key))) !== null;
  }

  /** Deletes records that have a mark, and marks past their lifetime. Resolves with the records deleted. */
  async sweep(now: number, concurrency: number, stopped: () => boolean): Promise<number> {
    const names = (await this.provider.list(`${this.path}/${ENDED}`)).filter((n) => !n.endsWith('/'));
    let deleted = 0;
    await forEachBounded(
      names,
      concurrency,
      async (name) => {
        const key = `${this.path}/${name}`;
        if (await this.provider.get(key)) {
          await this.provider.delete(key);
          deleted++;
        }
        const mark = await this.provider.get(`${this.path}/${ENDED}/${name}`);
        const expiresAt = mark?.data.expires_at;
        if (mark && typeof expiresAt === 'number' && expiresAt <= now) await this.provider.delete(`${this.path}/${ENDED}/${name}`);
      },
      stopped,
    );
    return deleted;
  }

  private markPath(key: string): string {
    return `${this.path}/${ENDED}/${key.slice(this.path.length + 1)}`;
  }
}
