import type { Request, RequestHandler, Router } from 'express';
import type { SecretProvider } from '../providers/types';
import type { SecretsSessionStore } from '../session/store';
import type { TokenStore } from '../tokens/store';
import type { TokenEventAction } from '../tokens/events';
import type { TokenSource } from '../tokens/types';

/** What the admin router needs from a token store; `TokenStore` is one. */
export type TokenAdminBackend = Pick<TokenStore, 'create' | 'list' | 'get' | 'revoke' | 'rotate'>;

/** Where audit lines and failures are written. `console` fits. */
export interface AdminLogger {
  info(message: string): void;
  warn(message: string): void;
  error?(message: string): void;
}

/** What the admin router needs from a session store for its session routes; `SecretsSessionStore` (with `userOf`) is one. */
export type SessionAdminBackend = Pick<SecretsSessionStore, 'sessionsOf' | 'destroySessionsOf' | 'destroyByKey' | 'isSessionKey'>;

/**
 * What happened to a token. `token.auto_rotate` is done by the auto-rotation job, with no actor;
 * `token.leaked` is a token reported leaked (`POST /tokens/leaked`) that verified, by an anonymous
 * reporter (no actor, the reporter's `ip`), with `details: { revoked, source }`.
 */
export type TokenAuditAction = 'token.create' | 'token.rotate' | 'token.revoke' | 'token.auto_rotate' | 'token.leaked' | TokenEventAction;

/** What happened to sessions: one ended by its key, or every session of a user ended. */
export type SessionAuditAction = 'session.destroy' | 'user.sessions_destroy';

export type AuditAction = TokenAuditAction | SessionAuditAction;

/** What every audit record has: who did it, from where, when. Never holds a token, a hash or a session id. */
interface AuditRecord {
  /** ISO 8601 time of the change. */
  at: string;
  /** The caller (from `req.auth`, or `createdBy`), or null for the auto-rotation job and leak reports (anonymous). */
  actor: { name: string | null; tokenId: string | null; source: TokenSource | null } | null;
  /** Client address as Express sees it (`req.ip`; set `trust proxy` behind a proxy). */
  ip: string | null;
  /** Action details: `expires_at`, `grace_seconds`, `delivery_path`; `ended` for `user.sessions_destroy`; `revoked`, `source` for `token.leaked`. */
  details: Record<string, string | number | boolean | null>;
}

/** An audit record about a token. */
export interface TokenAuditEvent extends AuditRecord {
  action: TokenAuditAction;
  token: { id: string; name: string; scopes: string[] };
}

/** An audit record about sessions: `key` for `session.destroy`, `user` for `user.sessions_destroy` (the other is null). */
export interface SessionAuditEvent extends AuditRecord {
  action: SessionAuditAction;
  session: { key: string | null; user: string | null };
}

/** One audit record: who did what to which token or sessions, when. Narrow on `action` (or `'token' in event`). */
export type AuditEvent = TokenAuditEvent | SessionAuditEvent;

/** Automatic rotation of tokens created with a `delivery_path`. */
export interface AutoRotateOptions {
  /** Provider the new plaintext is written to, at the token's `delivery_path`. Required. */
  provider: SecretProvider;
  /**
   * Folder of `provider` that delivery paths must lie under: a token's `delivery_path` is a full
   * secret path starting with `<pathPrefix>/`, and nothing outside it is ever written. Give the
   * app's credentials write access to this folder only. Default "token-delivery".
   */
  pathPrefix?: string;
  /** How long the replaced secret keeps working, seconds or a duration. Default "1h". */
  grace?: number | string;
  /** How often (ms) tokens are checked; at least 1000. Default 60000. */
  intervalMs?: number;
  /** @deprecated Milliseconds; use `intervalMs` (same value). Removed in the next minor version. */
  interval?: number;
}

/**
 * Options for `tokenAdminRouter()`. Lifetimes and graces are durations: a string like "90d" or a
 * number of seconds; every other time is milliseconds and its name ends in `Ms`.
 */
export interface TokenAdminRouterOptions {
  /** The token store to manage. */
  tokens: TokenAdminBackend & Partial<Pick<TokenStore, 'verify'>>;
  /**
   * Middleware run before every API route instead of `bearerAuth({ tokens, scopes: [adminScope] })`,
   * e.g. the app's session sign-in check. It must refuse unauthorised requests itself.
   */
  guard?: RequestHandler | RequestHandler[];
  /** Scope the default guard requires. Default "admin". */
  adminScope?: string;
  /** `realm` of the default guard's WWW-Authenticate. Default "admin". */
  realm?: string;
  /** Longest `expires_in` accepted; when set, every token must expire. Default none. */
  maxTtl?: number | string | null;
  /** Longest rotation grace accepted. Default "7d". */
  maxGrace?: number | string;
  /**
   * Tokens are "expiring" in the last third of their lifetime; a token whose start is unknown (a
   * static token with an expiry) is "expiring" this long before it expires. Default "7d".
   */
  expiringWithin?: number | string;
  /** Scopes a created token may have; default any scope name. */
  allowedScopes?: string[];
  /** Who is creating a token, stored as `created_by`. Default `req.auth?.name ?? null`. */
  createdBy?: (req: Request) => string | null;
  /**
   * The session store whose sessions the admin may list and end: adds `GET /sessions?user=`,
   * `DELETE /sessions/:key` and `DELETE /users/:user/sessions`, and the page's Sessions view.
   * Listing by user needs the store's `userOf` option. Default none (no session routes).
   */
  sessions?: SessionAdminBackend;
  /**
   * Called for every create, rotate and revoke, every reported leaked token that verified, and
   * every session ended through the API (after it happened). Failures are logged, never thrown.
   */
  onAudit?: (event: AuditEvent) => void | Promise<void>;
  /** Audit lines (info) and failures. Default `console`. */
  logger?: AdminLogger;
  /** Serve the management page at `GET /ui`. Default true. */
  ui?: boolean;
  /**
   * The page offers a field to paste an admin token (kept in the tab's sessionStorage, sent as
   * `Authorization: Bearer`). Default true with the default guard; false with your own `guard`
   * (set it when that guard also accepts an admin bearer token).
   */
  tokenSignIn?: boolean;
  /** The app's sign-in page (a path like "/login" or an http(s) URL), linked from the page when signed out. Default none. */
  signInUrl?: string;
  /** The app (a path like "/" or an http(s) URL), linked from the page when signed in. Default none. */
  appUrl?: string;
  /**
   * Adds `POST /tokens/leaked`, unauthenticated, where a secret scanner reports leaked tokens
   * (`{ tokens: [...] }`, at most 100): every one that verifies is revoked in the background and
   * audited as `token.leaked`; the answer is always 202 `{ received }`, whatever was found. 10
   * reports per minute per client. Needs `tokens.verify` (a TokenStore). Default false.
   */
  leakedTokenEndpoint?: boolean;
  /** Rotate tokens created with a `delivery_path` at 2/3 of their lifetime. Default off. */
  autoRotate?: AutoRotateOptions | false;
  /** Clock (epoch ms), for tests. Default `Date.now`. */
  now?: () => number;
}

/** The router `tokenAdminRouter()` returns: mount it with `app.use(path, router)`. */
export interface TokenAdminRouter extends Router {
  /** Runs one automatic-rotation pass now; resolves with the ids rotated ([] when autoRotate is off). */
  rotateDue(): Promise<string[]>;
  /**
   * Stops the automatic-rotation timer (it is unref'd, so it never keeps the process alive anyway)
   * and the checking of leak reports (reported tokens still waiting are dropped with a warning);
   * resolves once a rotation pass and a leak check in flight have ended.
   */
  close(): Promise<void>;
  /**
   * Resolves once every token reported to `POST /tokens/leaked` so far has been checked (and
   * revoked when it verified); after `close()`, once the one being checked is done; at once
   * without `leakedTokenEndpoint`. For tests and shutdown.
   */
  leakedIdle(): Promise<void>;
}
