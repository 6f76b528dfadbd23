import { ConflictError } from '../errors';
import type { SecretProvider } from '../providers/types';
import type { EndedMarks } from './ended';
import type { Loaded } from './loaded';
import type { RecentSessions } from './recent';
import { fromData, type RecordMeta, type SessionRecord, toData } from './record';
import type { UserIndex } from './user-index';
import { misplaced, type SessionKeys } from './scan';

/** What SessionRecords works with: the store's providers, keys and per-process memory. */
export interface SessionRecordsParts {
  /** The provider reads and writes go through (the cache wrapper when `cache` is set). */
  provider: SecretProvider;
  /** The provider as given: asked whether it keeps versions. */
  source: SecretProvider;
  keys: SessionKeys;
  recent: RecentSessions;
  ended: EndedMarks;
  /** The per-user index, when `userOf` is set. */
  index?: UserIndex;
}

/**
 * One session's record, read and written with check-and-set (or, on KV v1, checked against the
 * ended marks afterwards), so that no write can bring back a session a destroy ended.
 */
export class SessionRecords {
  /** Whether the backend has versions and check-and-set (not KV v1); asked once. */
  private versioning: Promise<boolean> | undefined;

  constructor(private readonly parts: SessionRecordsParts) {}

  /**
   * Stores session `sid` (one version kept) and remembers what was written; with `cas`, only if
   * the backend still holds that version (a ConflictError otherwise, and nothing remembered).
   */
  async write(sid: string, text: string, expiresAt: number | null, cas?: number, meta: RecordMeta = {}): Promise<{ version?: number }> {
    this.parts.recent.forget(sid);
    const opts = cas === undefined ? { maxVersions: 1 } : { maxVersions: 1, cas };
    const data = toData(text, expiresAt, sid, meta);
    const { version } = await this.parts.provider.put(this.parts.keys.keyOf(sid), data, opts);
    this.parts.recent.saw(sid, fromData(this.parts.keys.keyOf(sid), data), version);
    return { version };
  }

  /**
   * `set`'s write: check-and-set against `loaded` (0, create-only, for a session never loaded).
   * On a conflict the record is read again: gone means a destroy ended it (nothing is written,
   * null); still there means another save won meanwhile, which this one overwrites (last write
   * wins among live sessions, as in connect-redis).
   */
  async save(sid: string, text: string, expiresAt: number | null, loaded: Loaded | undefined, user?: string): Promise<{ version?: number } | null> {
    const seen = this.parts.recent.lastSeen(sid);
    // The user the stored record has, as far as this process knows (unknown for a new session object).
    let previous = loaded
      ? { user: loaded.user, createdAt: loaded.createdAt }
      : seen
        ? { user: seen.record.user, createdAt: seen.record.created_at }
        : undefined;
    const meta = (): RecordMeta => ({ user, createdAt: previous?.createdAt });
    // The index entry is written BEFORE a record that names a new user, so a destroySessionsOf finds every acknowledged session.
    const index = async () => {
      if (user !== undefined && this.parts.index && (previous === undefined || previous.user !== user))
        await this.parts.index.add(user, this.parts.keys.keyOf(sid), Date.now());
    };
    await index();
    if (!(await this.isVersioned())) return this.writeUnversioned(sid, text, expiresAt, meta());
    // A session object that was never loaded (a new one, or a plain `set` call): what this process last saw of it, else create-only.
    let expected = loaded?.version ?? seen?.version ?? 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(sid, text, expiresAt, expected, meta());
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      }
      const current = await this.read(sid);
      if (!current) return null;
      expected = current.version ?? 0;
      const skipped = previous?.user === user; // the entry was trusted to exist
      previous = { user: current.record.user, createdAt: current.record.created_at };
      if (!skipped) continue;
      await index();
    }
  }

  /** A write on a backend without check-and-set: then a destroy's mark, if any, deletes the record again (ended.ts). */
  async writeUnversioned(sid: string, text: string, expiresAt: number | null, meta: RecordMeta = {}): Promise<{ version?: number } | null> {
    const written = await this.write(sid, text, expiresAt, undefined, meta);
    const key = this.parts.keys.keyOf(sid);
    if (!(await this.parts.ended.has(key))) return written;
    this.parts.recent.forget(sid);
    await this.parts.provider.delete(key);
    return null;
  }

  /** Whether the backend keeps versions (check-and-set); false only for a KV v1 mount. */
  isVersioned(): Promise<boolean> {
    const detect = (this.parts.source as { kvVersion?: () => Promise<1 | 2> }).kvVersion;
    if (typeof detect !== 'function') return Promise.resolve(true);
    this.versioning ??= detect.call(this.parts.source).then(
      (v) => v === 2,
      (err: unknown) => {
        this.versioning = undefined;
        throw err;
      },
    );
    return this.versioning;
  }

  /** Deletes a session whose new expiry is already past (set/touch with a past cookie expiry). */
  async remove(sid: string): Promise<null> {
    this.parts.recent.forget(sid);
    await this.parts.provider.delete(this.parts.keys.keyOf(sid));
    return null;
  }

  /** The record of session `sid` and its backend version, or null when absent. */
  async read(sid: string): Promise<{ record: SessionRecord; version?: number } | null> {
    const key = this.parts.keys.keyOf(sid);
    const entry = await this.parts.provider.get(key);
    return entry && { record: this.check(key, sid, fromData(key, entry.data)), version: entry.version };
  }

  /** A record found under a session's key must name that session (else it was copied or edited). */
  private check(key: string, sid: string, record: SessionRecord): SessionRecord {
    if (record.sid !== sid) throw misplaced(key);
    return record;
  }
}
