import type { SessionData } from 'express-session';
import type { CacheOptions } from '../providers/cached';
import type { SecretProvider } from '../providers/types';

/** Turns a session into the string that is stored, and back. `parse` may be async. */
export interface SessionSerializer {
  parse(text: string): SessionData | Promise<SessionData>;
  stringify(session: SessionData): string;
}

/** Node-style callback; `value` is absent when `err` is set. */
export type StoreCallback<T> = (err: unknown, value?: T) => void;

/** A session as returned by `all()`: the session plus its id, as connect-redis returns it. */
export type StoredSession = SessionData & { id: string };

/** Options of `SecretsSessionStore`: connect-redis v9's names and defaults, plus the provider ones. */
export interface SecretsSessionStoreOptions {
  /** Where sessions are kept (Vault/OpenBao, file, memory, ...). Required. The store never closes it. */
  provider: SecretProvider;
  /** Folder under which sessions are stored, `/`-separated segments. Default "sessions". */
  path?: string;
  /**
   * Prepended to the hash of each session id to form its key, `<path>/<prefix><base64url(SHA-256(sid))>`
   * (the id itself is never in a key). Default "sess:"; "" is kept. Characters of [A-Za-z0-9._:@+=-]
   * only (use `path` for folders), at most 157 of them.
   */
  prefix?: string;
  /**
   * Lifetime in seconds when the cookie has no `expires` (browser-session cookies), or a function
   * `(session) => seconds` that wins over the cookie. Default 86400 (0 also means 86400, as in connect-redis).
   */
  ttl?: number | ((session: SessionData) => number);
  /** Store sessions with no expiry at all (they are never expired nor swept). `touch` does nothing. Default false. */
  disableTTL?: boolean;
  /** `touch` does nothing (expiry is extended only by `set`). Default false. */
  disableTouch?: boolean;
  /** Default `JSON`. */
  serializer?: SessionSerializer;
  /** Accepted for connect-redis compatibility; unused (listing is not paged). Default 100. */
  scanCount?: number;
  /**
   * Seconds: `touch` writes nothing while it would push the stored expiry forward by less than
   * this (connect-mongo's lazy touch). Shortening an expiry is always written. Default 0 (every touch writes).
   */
  touchAfter?: number;
  /**
   * Wrap the provider in the read-through cache (`cached()`), e.g. `{ ttlMs: 2000, max: 10000 }`.
   * Another instance's `destroy` is then seen here after at most `ttlMs`. Default: no cache.
   */
  cache?: CacheOptions | boolean;
  /**
   * Milliseconds between background sweeps deleting expired sessions; each delay is randomised
   * between 50% and 150% of it. `0` or `false` disables the sweeper. Default 900000 (15 minutes).
   */
  cleanupIntervalMs?: number | false;
  /**
   * Opt-in per-user index: the user a session belongs to (e.g. `(s) => s.userId`), or undefined
   * for none. Enables `sessionsOf`/`destroySessionsOf`. Default: none (no index is kept).
   */
  userOf?: (session: SessionData) => string | undefined;
  /** @deprecated Seconds; use `cleanupIntervalMs` (seconds × 1000). Removed in the next minor version. */
  cleanupInterval?: number | false;
}

/** What one sweep did. */
export interface SweepResult {
  /** Session keys looked at. */
  scanned: number;
  /** Expired sessions deleted. */
  deleted: number;
}

/** One live session of a user, as `sessionsOf` lists it (never the session id: it is a credential). */
export interface UserSession {
  /** `store.keyOf(sid)`. */
  key: string;
  /** ms since the epoch. */
  createdAt: number;
  /** ms, last set/touch that wrote. */
  lastSeenAt: number;
  /** ms, null with disableTTL. */
  expiresAt: number | null;
}
