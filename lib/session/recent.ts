import { LRUCache } from 'lru-cache';

import type { SessionRecord } from './record';

/** A session record as this process last read or wrote it, with its backend version. */
export interface Seen {
  record: SessionRecord;
  version: number;
  /** The stored session's `cookie.originalMaxAge`, when a get parsed this record: touch decides without parsing it again. */
  cookieMaxAge?: { value: unknown };
}

const REMEMBERED = 10_000;
const DESTROY_WINDOW_MS = 5 * 60_000;

/**
 * The store's short memory of recent sessions in this process (bounded LRUs):
 *
 * - The record and version of each session it last loaded or wrote, so `touch` can rewrite the
 *   record with check-and-set against that version without reading it first (one request
 *   instead of two on Vault). A change made elsewhere, or a destroy, makes the write conflict and
 *   it is skipped, as when the record was read; nothing is written from stale memory.
 * - When each session was last loaded and destroyed (ticks of one counter): a request that loaded
 *   a session before a destroy must not write it back when it finishes, where last-write-wins
 *   would undo the destroy.
 */
export class RecentSessions {
  private ticks = 0;
  private readonly loadedAt = new LRUCache<string, number>({ max: REMEMBERED });
  private readonly destroyedAt = new LRUCache<string, number>({ max: REMEMBERED, ttl: DESTROY_WINDOW_MS });
  private readonly seen = new LRUCache<string, Seen>({ max: REMEMBERED });

  /** A request is loading `sid` (called before the read, so a destroy during it counts as after). */
  loading(sid: string): void {
    this.loadedAt.set(sid, ++this.ticks);
    this.seen.delete(sid);
  }

  /** The backend holds `record` at `version` for `sid` (after a read or a write). */
  saw(sid: string, record: SessionRecord, version: number | undefined, cookieMaxAge?: Seen['cookieMaxAge']): void {
    if (version === undefined) this.seen.delete(sid);
    else this.seen.set(sid, { record, version, cookieMaxAge });
  }

  /** What was last seen of `sid` (only records whose backend keeps versions are remembered). */
  lastSeen(sid: string): Seen | undefined {
    return this.seen.get(sid);
  }

  forget(sid: string): void {
    this.seen.delete(sid);
  }

  destroyed(sid: string): void {
    this.destroyedAt.set(sid, ++this.ticks);
    this.seen.delete(sid);
  }

  /** Whether this process last loaded `sid` before it was destroyed (a stale save in flight). */
  loadedBeforeDestroy(sid: string): boolean {
    const destroyed = this.destroyedAt.get(sid);
    const loaded = this.loadedAt.get(sid);
    return destroyed !== undefined && loaded !== undefined && loaded < destroyed;
  }
}
