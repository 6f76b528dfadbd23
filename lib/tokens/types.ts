import type { SecretRefWatcher } from '../shared/watcher';
import type { SecretProvider } from '../providers/types';
import type { TokenEvent } from './events';
import type { BearerRateLimit, FailureLimiter } from './rate-limit';

/** Where a token comes from: created through a TokenStore, or declared in configuration. */
export type TokenSource = 'store' | 'config';

/** Who a verified bearer token belongs to; set on `req.auth` by `bearerAuth()`. Frozen: read-only. */
export interface AuthInfo {
  /** The token's id (public: the UI shows it). */
  tokenId: string;
  /** The token's name. */
  name: string;
  /** Scopes granted to the token. */
  scopes: string[];
  source: TokenSource;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by `bearerAuth()` when the request carries a valid token. */
      auth?: AuthInfo;
    }
  }
}

/**
 * A stored token record, one JSON secret at `<path>/<id>`. It never holds the token itself:
 * only a `bcrypt:` (or imported `sha256:`) hash. Times are ISO 8601 strings or null.
 */
export interface TokenRecord {
  id: string;
  method: 'TOKEN';
  credential_hash: string;
  scopes: string[];
  metadata: { name: string; description: string; created_by: string | null };
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** When the secret was last rotated (present once rotated). */
  rotated_at?: string | null;
  /** The hash of the secret before the last rotation, while its grace period lasts. */
  previous_credential_hash?: string | null;
  /** When the previous secret stops working. */
  previous_expires_at?: string | null;
  /** Secret path where automatic rotation (admin router `autoRotate`) delivers new secrets. */
  delivery_path?: string | null;
  /** Hashes of secrets rotated away (newest first, at most 2), kept until `until` to detect their reuse. */
  retired_credentials?: { hash: string; until: string }[];
}

/** A token as shown to callers and the admin API: no hash, camelCase, with its source. */
export interface TokenInfo {
  id: string;
  name: string;
  description: string;
  scopes: string[];
  createdBy: string | null;
  createdAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  rotatedAt: string | null;
  /** Until when the secret replaced by the last rotation still works, or null. */
  previousExpiresAt: string | null;
  source: TokenSource;
  /** Where automatic rotation delivers new secrets; present only on tokens created with one. */
  deliveryPath?: string | null;
}

/** A static token declared in configuration (list form). */
export interface StaticTokenConfig {
  /** Shown in the API and used as the token's id unless `id` is given. */
  name: string;
  /** Id shown in the API (default: `name` with characters outside [A-Za-z0-9._:@+=-] turned into "-"). */
  id?: string;
  /** The token itself (already resolved when it came from a secret reference). */
  credential?: string;
  /** Or its hash: `bcrypt:$2b$...` (see `hashToken`) or `sha256:<hex>`. */
  credential_hash?: string;
  scopes?: string[];
  description?: string;
  /** ISO 8601 expiry; absent or null for none. */
  expires_at?: string | null;
  /** Free-form metadata (Flipt form); ignored except for `description`/`scopes` keys. */
  metadata?: Record<string, unknown>;
}

/**
 * Static tokens: a list, or Flipt's map form `{ "<name>": { credential, metadata } }`.
 */
export type StaticTokensInput = StaticTokenConfig[] | Record<string, Omit<StaticTokenConfig, 'name'> & { name?: string }>;

/** Where failures that must not fail a request (e.g. `last_used_at` writes) are reported. */
export interface TokenLogger {
  warn(message: string): void;
  error?(message: string): void;
}

/** Anything that can verify a bearer token; `TokenStore` is one. */
export interface TokenVerifier {
  /**
   * The token's principal, or null when it is unknown, malformed, expired or revoked.
   * Rejects (e.g. `BackendUnavailableError`) when it cannot tell.
   */
  verify(token: string): Promise<AuthInfo | null>;
  /** Optional synchronous answer when no I/O is needed; undefined means "call verify". */
  verifySync?(token: string): AuthInfo | null | undefined;
  /**
   * The failed-attempt limiter every `bearerAuth()` on this verifier shares (a TokenStore's
   * `rateLimit`); null when limiting is off. Absent: each `bearerAuth()` keeps its own.
   */
  readonly failureLimiter?: FailureLimiter | null;
}

/**
 * Options for `new TokenStore()`. Lifetimes (`ttl`, `maxTtl`) are durations: a string like "90d"
 * or a number of seconds; every other time is milliseconds and its name ends in `Ms`.
 */
export interface TokenStoreOptions {
  provider: SecretProvider;
  /** Folder holding one record per token. Default "tokens". */
  path?: string;
  /** Token prefix. Default "esa". */
  prefix?: string;
  /** bcrypt cost for new hashes. Default 10. */
  bcryptCost?: number;
  /** Default lifetime of created tokens. Default none (tokens do not expire unless asked). */
  ttl?: number | string | null;
  /** Longest lifetime allowed; when set, every created or rotated token must expire. Default none. */
  maxTtl?: number | string | null;
  /** Static tokens from config, or a `watchSecretRefs` watcher of them (replaced on change). */
  staticTokens?: StaticTokensInput | SecretRefWatcher<StaticTokensInput>;
  /** How long (ms) a verified token is remembered in this process; 0 disables. Default 60000. */
  verifyCacheTtlMs?: number;
  /** @deprecated Milliseconds; use `verifyCacheTtlMs` (same value). Removed in the next minor version. */
  verifyCacheTtl?: number;
  /** Most verified tokens remembered. Default 10000. */
  verifyCacheMax?: number;
  /** bcrypt operations run at once (they use libuv's thread pool). Default 2. */
  bcryptConcurrency?: number;
  /**
   * Most verifications waiting for a bcrypt slot. Beyond it `verify` rejects with LimitBusyError
   * at once (bearerAuth answers 503 `temporarily_unavailable`) instead of queueing without bound.
   * Creating and rotating tokens have their own budget (`createConcurrency`, `createMaxQueue`).
   * Default 64.
   */
  bcryptMaxQueue?: number;
  /**
   * bcrypt hashes for creating, importing and rotating tokens run at once, apart from the
   * `bcryptConcurrency` slots of verification, so a flood of creations never delays a
   * verification. Keep `bcryptConcurrency + createConcurrency` below libuv's thread pool
   * (`UV_THREADPOOL_SIZE`, default 4). Default 1.
   */
  createConcurrency?: number;
  /**
   * Most creations (create, import, rotate) waiting for a `createConcurrency` slot. Beyond it they
   * reject at once with LimitBusyError (the admin router answers 503 with `Retry-After: 1`).
   * Default 16.
   */
  createMaxQueue?: number;
  /**
   * Failed-attempt limit per client, one per store: every `bearerAuth()` built on this store
   * counts into it (an attacker cannot spread attempts over routes). `store` (an express-rate-limit
   * store, e.g. rate-limit-redis) shares the count across processes. `false` disables it.
   * Default `{ windowMs: 60000, limit: 20 }`.
   */
  rateLimit?: false | BearerRateLimit;
  /** Minimum ms between `last_used_at` writes per token per process. Default 300000 (5 min). */
  lastUsedIntervalMs?: number;
  /** @deprecated Milliseconds; use `lastUsedIntervalMs` (same value). Removed in the next minor version. */
  lastUsedInterval?: number;
  /** Where background failures are reported. Default `console`. */
  logger?: TokenLogger;
  /**
   * Also verify credentials moved in with `importToken()` / `express-secrets-auth tokens import`
   * (strings not in this library's format). Each unknown such string then costs one backend read.
   * Default false.
   */
  acceptImported?: boolean;
  /**
   * Store events (`token.reuse_detected`, `token.expiring`) in the admin router's AuditEvent shape;
   * pass the same function as the router's `onAudit`. Failures are logged, never thrown. Default none.
   */
  onAudit?: (event: TokenEvent) => void | Promise<void>;
  /** How long (duration) after its rotation (or grace end) a replaced secret is remembered to detect its reuse. Default "30d". */
  reuseWindow?: number | string;
  /** Presenting a rotated-away secret also revokes the token's current secret (GitLab-style). Default false. */
  revokeOnReuse?: boolean;
  /** `token.expiring` is emitted once per token this long (duration) before its expiry. Default "7d". */
  notifyBefore?: number | string;
  /** How often (ms, jittered ±20%) the expiry check runs; it runs only with `onAudit`; 0 disables. Default 3600000. */
  expiryCheckIntervalMs?: number;
  /** Clock (epoch ms), for tests. Default `Date.now`. */
  now?: () => number;
}

/** A newly issued token: `token` is the only time the plaintext is available. */
export interface IssuedToken {
  token: string;
  record: TokenInfo;
}
