import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Request } from 'express';
import { type Session, type SessionData, Store } from 'express-session';
import { ConfigError, ConflictError, InvalidSessionIdError } from '../errors';
import { cached } from '../providers/cached';
import type { SecretProvider } from '../providers/types';
import { settle } from './settle';
import { isValidSessionId, sessionIdProblem, sidDigest } from './key';
import { forEachBounded } from '../shared/bounded';
import { isLive } from './record';
import { deleteExpired, listSessionKeys, liveSessionRecords, SCAN_CONCURRENCY } from './scan';
import { createSweeper, type Sweeper } from './sweeper';
import { DEFAULT_TTL_SECONDS, expiryOf, type TtlOption } from './ttl';
import type { SecretsSessionStoreOptions, SessionSerializer, StoreCallback, StoredSession, SweepResult, UserSession } from './types';
import { RecentSessions, type Seen } from './recent';
import { SessionRecords } from './records';
import { EndedMarks } from './ended';
import { checkedCleanupInterval, checkedPath, checkedPrefix, checkedTouchAfter } from './options';
import { carryLoaded, loadedOf, markLoaded, mayBeStored, noteSaving } from './loaded';
import { UserIndex } from './user-index';
import { destroyByKey, destroySessionsOf, isSessionKeyOf, repairIndex, sessionsOf, type UserParts, userOfSession } from './users';

type Cookie = { originalMaxAge?: number | null };
type StoreEvent = 'create' | 'update' | 'set' | 'touch' | 'destroy';

/**
 * express-session store keeping each session as one secret at `<path>/<prefix><sidDigest(sid)>`
 * (record.ts) in any SecretProvider; the id is never in a key. A drop-in for connect-redis v9.
 * Every method takes an optional callback (called exactly once) and returns a promise.
 */
export class SecretsSessionStore extends Store {
  readonly prefix: string;
  readonly scanCount: number;
  readonly serializer: SessionSerializer;
  readonly ttl: TtlOption;
  readonly disableTTL: boolean;
  readonly disableTouch: boolean;
  /** Folder of the session records. */
  readonly path: string;
  /** Seconds; see the option. */
  readonly touchAfter: number;
  /** The provider the store reads and writes through (the cache wrapper when `cache` is set). */
  readonly provider: SecretProvider;
  /** The provider as given: sweeps read through it so they do not flood the cache. */
  private readonly source: SecretProvider;
  private readonly sweeper: Sweeper | undefined;
  /** Recent sessions of this process: destroy guard and versions for one-request touches. */
  private readonly recent = new RecentSessions();
  /** Marks of ended sessions, used only on backends without check-and-set (KV v1). */
  private readonly ended: EndedMarks;
  /** Reads and writes of single session records. */
  private readonly records: SessionRecords;
  /** The per-user index and `userOf` (see users.ts). */
  private readonly users: UserParts;

  constructor(options: SecretsSessionStoreOptions) {
    super();
    const provider = options?.provider;
    if (!provider || typeof provider.get !== 'function') throw new ConfigError('session store: provider is required');
    this.prefix = checkedPrefix(options.prefix);
    this.path = checkedPath(options.path);
    this.scanCount = options.scanCount || 100;
    this.serializer = options.serializer || JSON;
    this.ttl = options.ttl || DEFAULT_TTL_SECONDS;
    this.disableTTL = options.disableTTL || false;
    this.disableTouch = options.disableTouch || false;
    this.touchAfter = checkedTouchAfter(options.touchAfter);
    this.source = provider;
    this.provider = options.cache ? cached(provider, options.cache === true ? {} : options.cache) : provider;
    // Marks are read through the provider as given: a cached "no mark" could hide another instance's destroy.
    this.ended = new EndedMarks(provider, this.path, typeof this.ttl === 'number' ? this.ttl : undefined);
    if (options.userOf !== undefined && typeof options.userOf !== 'function') throw new ConfigError('session store: userOf must be a function');
    const index = options.userOf ? new UserIndex(provider, this.path) : undefined;
    this.users = { source: provider, index, userOf: options.userOf, end: (sid, key, user) => this.end(sid, key, user) };
    this.records = new SessionRecords({ provider: this.provider, source: provider, keys: this, recent: this.recent, ended: this.ended, index });

    const interval = checkedCleanupInterval(options);
    if (interval) {
      this.sweeper = createSweeper(
        () => this.sweep(),
        interval,
        (err) => this.emit('sweepError', err),
      );
      this.sweeper.start();
    }
  }

  /** The session, or null when unknown, expired, or `sid` is not a valid id (a hostile cookie is a miss). */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: StoreCallback<SessionData | null>): Promise<undefined>;
  override get(sid: string, callback?: StoreCallback<SessionData | null>): Promise<SessionData | null | undefined> {
    return settle(async () => {
      if (!isValidSessionId(sid)) return null;
      this.recent.loading(sid);
      const found = await this.records.read(sid);
      if (!found || !isLive(found.record, Date.now())) return null;
      if (found.version === undefined && (await this.ended.has(this.keyOf(sid)))) return null; // KV v1: a destroy's mark wins
      const session = await this.serializer.parse(found.record.session);
      this.recent.saw(sid, found.record, found.version, { value: (session as { cookie?: Cookie } | null)?.cookie?.originalMaxAge });
      markLoaded(session, found.version, { user: found.record.user, createdAt: found.record.created_at });
      return session;
    }, callback);
  }

  /** Builds express-session's Session from what `get` returned, keeping the version it was loaded at (see loaded.ts). */
  override createSession(req: Request, session: SessionData): Session & SessionData {
    const created = super.createSession(req, session);
    carryLoaded(session, created);
    return created;
  }

  /**
   * express-session's regenerate (a login): ends the request's session, then makes a new one. A session never read nor given to save
   * was made in this request with a fresh random id: nothing is stored, so no delete (a login is one write) and no `destroy` event.
   */
  override regenerate(req: Request, callback: (err?: unknown) => void): void {
    if (mayBeStored(req.session)) super.regenerate(req, callback);
    else
      process.nextTick(() => {
        (this as unknown as { generate(req: Request): void }).generate(req); // set by express-session's middleware
        callback();
      });
  }

  /**
   * Writes the session (one version only); a session whose expiry has passed is destroyed instead.
   * Check-and-set against the version the session was loaded at (create-only for a new one), so
   * a save can never bring back a session a destroy deleted meanwhile: that save is dropped (and
   * the callback still succeeds). A save over a session changed meanwhile still wins, as in
   * connect-redis. On KV v1 the ended mark does the same (see ended.ts).
   */
  override set(sid: string, session: SessionData): Promise<null>;
  override set(sid: string, session: SessionData, callback: StoreCallback<null>): Promise<undefined>;
  override set(sid: string, session: SessionData, callback?: StoreCallback<null>): Promise<null | undefined> {
    noteSaving(session); // now, not in settle's microtask: a regenerate() right after this call must see it
    return settle(async () => {
      if (!isValidSessionId(sid)) throw new InvalidSessionIdError(sessionIdProblem(sid) as string);
      if (this.recent.loadedBeforeDestroy(sid)) return null;
      const now = Date.now();
      const expiresAt = expiryOf(session, this.ttl, now);
      if (!(expiresAt > now)) return this.records.remove(sid);
      const user = userOfSession(this.users, session);
      const userName = user === undefined || !this.users.index ? undefined : await this.users.index.nameOf(user);
      const loaded = loadedOf(session);
      const text = await this.serializer.stringify(session);
      const written = await this.records.save(sid, text, this.disableTTL ? null : expiresAt, loaded, userName);
      if (!written) return null;
      markLoaded(session, written.version, { user: userName, createdAt: loaded?.createdAt ?? this.recent.lastSeen(sid)?.record.created_at });
      this.announce(written.version === undefined ? ['set'] : [written.version === 1 ? 'create' : 'update', 'set'], sid);
      return null;
    }, callback);
  }

  /**
   * Extends the expiry of an existing session and stores its new cookie (so a changed `maxAge`
   * sticks); its data is left as stored. A missing or expired session is not recreated; a
   * concurrent change wins (check-and-set). Writes nothing with `disableTouch`/`disableTTL`, or
   * while the expiry would move forward by less than `touchAfter` seconds.
   */
  override touch(sid: string, session: SessionData): Promise<null>;
  override touch(sid: string, session: SessionData, callback: StoreCallback<null>): Promise<undefined>;
  override touch(sid: string, session: SessionData, callback?: StoreCallback<null>): Promise<null | undefined> {
    return settle(async () => {
      if (this.disableTouch || this.disableTTL || !isValidSessionId(sid)) return null;
      // The record as this process last read or wrote it spares a read; check-and-set below makes
      // any change since (another request, another instance, a destroy) a conflict, as after a read.
      const current = this.recent.lastSeen(sid) ?? (await this.records.read(sid));
      if (!current) return null; // never recreated: a destroyed session stays destroyed
      const { record } = current;
      const now = Date.now();
      if (!isLive(record, now)) return null;
      const expiresAt = expiryOf(session, this.ttl, now);
      if (!(expiresAt > now)) return this.records.remove(sid);
      const parse = async () => (await this.serializer.parse(record.session)) as SessionData & { cookie?: Cookie };
      const known = (current as Partial<Seen>).cookieMaxAge; // a get of this very record parsed it: no second parse to decide
      let stored = known ? undefined : await parse();
      const cookie = (session as { cookie?: Cookie }).cookie;
      const gain = expiresAt - (record.expires_at ?? 0);
      const sameMaxAge = (known ? known.value : stored?.cookie?.originalMaxAge) === cookie?.originalMaxAge;
      if (sameMaxAge && gain >= 0 && gain < this.touchAfter * 1000) return null;
      stored ??= await parse();
      if (cookie) stored.cookie = cookie as SessionData['cookie'];
      const text = await this.serializer.stringify(stored);
      const meta = { user: record.user, createdAt: record.created_at };
      if (current.version === undefined) {
        if (await this.records.writeUnversioned(sid, text, expiresAt, meta)) this.announce(['touch'], sid, session);
        return null;
      }
      try {
        await this.records.write(sid, text, expiresAt, current.version, meta);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // changed or ended meanwhile: that change wins
        return null;
      }
      this.announce(['touch'], sid, session);
      return null;
    }, callback);
  }

  /** Deletes the session (on KV v2: every version and the metadata). Unknown or invalid ids are fine. */
  override destroy(sid: string): Promise<null>;
  override destroy(sid: string, callback: StoreCallback<null>): Promise<undefined>;
  override destroy(sid: string, callback?: StoreCallback<null>): Promise<null | undefined> {
    return settle(async () => {
      if (!isValidSessionId(sid)) return null;
      const key = this.keyOf(sid);
      // With the index, the record names its entry (read as stored, not from the cache).
      const user = this.users.index ? (await this.source.get(key))?.data.user : undefined;
      await this.end(sid, key, typeof user === 'string' ? user : undefined);
      return null;
    }, callback);
  }

  /** The one destroy path (destroy, destroyByKey, destroySessionsOf): mark on KV v1, delete the record, then its index entry. */
  private async end(sid: string, key: string, user: string | undefined): Promise<void> {
    this.recent.destroyed(sid);
    // Without check-and-set the mark comes first, so a save racing this destroy finds it (ended.ts).
    if (!(await this.records.isVersioned())) await this.ended.mark(key, Date.now());
    await this.provider.delete(key);
    if (user !== undefined) await this.users.index?.remove(user, key);
    this.announce(['destroy'], sid);
  }

  /** The live sessions of `user` (needs `userOf`): O(that user's sessions), never a scan. */
  sessionsOf(user: string): Promise<UserSession[]> {
    return sessionsOf(this.users, user);
  }

  /** Ends every session of `user` (but the one with id `except`); resolves with the number ended. */
  destroySessionsOf(user: string, opts: { except?: string } = {}): Promise<number> {
    return destroySessionsOf(this.users, user, opts.except === undefined || !isValidSessionId(opts.except) ? undefined : this.keyOf(opts.except));
  }

  /** Ends the session stored at `key` (as `sessionsOf` lists it); false when none was there or `key` is not one of this store's. */
  destroyByKey(key: string): Promise<boolean> {
    return destroyByKey(this.users, key, this);
  }

  /** Whether `key` is exactly `<path>/<prefix><43 base64url characters>` (validates request input). */
  isSessionKey(key: string): boolean {
    return isSessionKeyOf(this.path, this.prefix, key);
  }

  /** Every live session, each with its `id` (connect-redis's shape). Reads each record. */
  override all(): Promise<StoredSession[]>;
  override all(callback: StoreCallback<StoredSession[]>): Promise<undefined>;
  override all(callback?: StoreCallback<StoredSession[]>): Promise<StoredSession[] | undefined> {
    return settle(async () => {
      const found = await liveSessionRecords(this.provider, this);
      const sessions: StoredSession[] = [];
      for (const [id, record] of found) sessions.push(Object.assign((await this.serializer.parse(record.session)) as StoredSession, { id }));
      return sessions;
    }, callback);
  }

  /** Ids of the live sessions, taken from the records (keys hold only a hash). Reads each record to leave out expired ones. */
  ids(): Promise<string[]>;
  ids(callback: StoreCallback<string[]>): Promise<undefined>;
  ids(callback?: StoreCallback<string[]>): Promise<string[] | undefined> {
    return settle(async () => [...(await liveSessionRecords(this.provider, this)).keys()], callback);
  }

  /** Number of live sessions. */
  override length(): Promise<number>;
  override length(callback: StoreCallback<number>): Promise<undefined>;
  override length(callback?: StoreCallback<number>): Promise<number | undefined> {
    return settle(async () => (await liveSessionRecords(this.provider, this)).size, callback);
  }

  /** Deletes this store's sessions: keys under `path` that start with `prefix`, nothing else. */
  override clear(): Promise<null>;
  override clear(callback: StoreCallback<null>): Promise<undefined>;
  override clear(callback?: StoreCallback<null>): Promise<null | undefined> {
    return settle(async () => {
      const keys = await listSessionKeys(this.provider, this);
      await forEachBounded(keys, SCAN_CONCURRENCY, (key) => this.provider.delete(key));
      await this.users.index?.clear(SCAN_CONCURRENCY);
      return null;
    }, callback);
  }

  /** Deletes expired sessions and repairs the user index now (the sweeper calls this); reads bypass the cache, 8 calls in flight. */
  async sweep(): Promise<SweepResult> {
    const keys = await listSessionKeys(this.provider, this);
    await yieldToEventLoop(); // the listing was one synchronous chunk; do not add the first slice to it
    const stopped = () => this.sweeper?.isStopped === true;
    let deleted = await deleteExpired(keys, this.source, this.provider, stopped);
    if (!(await this.records.isVersioned())) deleted += await this.ended.sweep(Date.now(), SCAN_CONCURRENCY, stopped);
    await repairIndex(this.users, stopped);
    return { scanned: keys.length, deleted };
  }

  /** Stops the sweeper (waiting for a running sweep). The provider is yours: it is not closed. */
  close(): Promise<null>;
  close(callback: StoreCallback<null>): Promise<undefined>;
  close(callback?: StoreCallback<null>): Promise<null | undefined> {
    return settle(async () => {
      await this.sweeper?.stop();
      return null;
    }, callback);
  }

  /** The key session `sid` is stored under, `<path>/<prefix><base64url(SHA-256(sid))>`: the same on every instance, never the id. */
  keyOf(sid: string): string {
    return `${this.path}/${this.prefix}${sidDigest(sid)}`;
  }

  /**
   * connect-mongo's events, after the write succeeded: `create` (first version) or `update`, then
   * `set`, on set; `touch` when a touch wrote; `destroy`. Listeners get `(sid)`, `touch` also the
   * session. On KV v1, which keeps no versions, set emits only `set`.
   */
  private announce(events: StoreEvent[], sid: string, session?: SessionData): void {
    for (const event of events) {
      if (session === undefined) this.emit(event, sid);
      else this.emit(event, sid, session);
    }
  }
}
