import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError, SecretsAuthError } from '../errors';
import { isScope } from '../shared/token-limits';
import { LimitBusyError } from './concurrency-limit';
import { type BearerRateLimit, FailureLimiter } from './rate-limit';
import type { AuthInfo, TokenLogger, TokenVerifier } from './types';

export type { BearerRateLimit } from './rate-limit';

/** Options for `bearerAuth()`. */
export interface BearerAuthOptions {
  /** What verifies tokens, usually a `TokenStore`. */
  tokens: TokenVerifier;
  /** Scopes the token must all have. Default none. */
  scopes?: string[];
  /** `realm` in WWW-Authenticate. Default "api". */
  realm?: string;
  /** Let requests without any credentials through (without `req.auth`). Bad tokens are still refused. Default false. */
  optional?: boolean;
  /** Accept `?access_token=` (RFC 6750 §2.3; URLs get logged, so avoid). Default false: refused with 400. */
  allowQueryToken?: boolean;
  /** Accept `access_token` in a parsed form body (RFC 6750 §2.2). Default false: refused with 400. */
  allowBodyToken?: boolean;
  /**
   * `false`: this middleware does not limit failed attempts. Otherwise the limit is the one of
   * `tokens` (a TokenStore's `rateLimit` option, shared by every bearerAuth() on that store); an
   * object here is only for verifiers without their own limiter (a ConfigError with a TokenStore).
   * Default: the store's limiter (20 failures per minute per client).
   */
  rateLimit?: false | BearerRateLimit;
  /** Where backend failures are reported (never with a token). Default `console`. */
  logger?: TokenLogger;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A quoted auth-param value; RFC 6750 allows no `"` or `\` in it (nor anything outside printable ASCII). */
function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "'")}"`;
}

/** Where the request put its credentials, or why they are malformed. */
type Extracted = { token: string } | { none: true } | { malformed: string };

function extract(req: Request, opts: BearerAuthOptions): Extracted {
  const found: string[] = [];
  const header = req.headers.authorization;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    const scheme = space === -1 ? header : header.slice(0, space);
    if (scheme.toLowerCase() === 'bearer') {
      const credentials = space === -1 ? '' : header.slice(space + 1).trim();
      if (!B64TOKEN.test(credentials)) return { malformed: 'The Authorization header must be: Bearer <token>.' };
      found.push(credentials);
    }
  }
  // Express 5 re-parses the query string on every req.query read: only look when it can be there.
  const query = req.url.includes('access_token') ? (req.query as Record<string, unknown> | undefined)?.access_token : undefined;
  if (query !== undefined) {
    if (!opts.allowQueryToken) return { malformed: 'Send the token in the Authorization header, not in the URL.' };
    if (typeof query !== 'string' || !B64TOKEN.test(query)) return { malformed: 'The access_token parameter is malformed.' };
    found.push(query);
  }
  const body = (req.body as Record<string, unknown> | undefined)?.access_token;
  if (body !== undefined && typeof req.body === 'object') {
    if (!opts.allowBodyToken) return { malformed: 'Send the token in the Authorization header, not in the body.' };
    if (typeof body !== 'string' || !B64TOKEN.test(body)) return { malformed: 'The access_token field is malformed.' };
    found.push(body);
  }
  if (found.length > 1) return { malformed: 'Send the token one way only (RFC 6750 section 2).' };
  return found.length ? { token: found[0] } : { none: true };
}

/** The store's shared limiter, unless this middleware opts out; a limiter of its own only for verifiers without one. */
function limiterOf(opts: BearerAuthOptions): FailureLimiter | null {
  if (opts.rateLimit === false) return null;
  const shared = opts.tokens.failureLimiter;
  if (shared === undefined) return new FailureLimiter(opts.rateLimit ?? {}, 'bearerAuth');
  if (opts.rateLimit !== undefined) {
    throw new ConfigError('bearerAuth: set rateLimit on the TokenStore (one failure limit per store, shared by every bearerAuth on it), or pass rateLimit: false');
  }
  return shared;
}

function describe(err: unknown): string {
  if (err instanceof SecretsAuthError) return err.message;
  return err instanceof Error ? err.name : 'unknown error';
}

/**
 * RFC 6750 bearer-token middleware. On success sets `req.auth = { tokenId, name, scopes, source }`.
 * Refusals are JSON `{ error: { code, message } }`: no credentials 401 (challenge without an error
 * code), malformed 400 `invalid_request`, bad/expired/revoked 401 `invalid_token`, missing scope 403
 * `insufficient_scope`, too many failures (or attempts in flight) 429 (Retry-After), backend down
 * or overloaded 503 `temporarily_unavailable` (fail closed).
 */
export function bearerAuth(opts: BearerAuthOptions): RequestHandler {
  if (!opts || typeof opts.tokens?.verify !== 'function') throw new ConfigError('bearerAuth: `tokens` (a TokenStore) is required');
  const realm = opts.realm ?? 'api';
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(realm)) throw new ConfigError('bearerAuth: realm must be printable ASCII without quotes or backslashes');
  const required = [...new Set(opts.scopes ?? [])];
  if (!required.every(isScope)) throw new ConfigError('bearerAuth: scopes must be scope names without spaces or quotes');
  const logger = opts.logger ?? console;
  const limiter = limiterOf(opts);
  const scopeParam = required.length ? `, scope=${quote(required.join(' '))}` : '';

  function refuse(req: Request, res: Response, status: number, code: string, message: string, challenge?: string, retryAfter = 5): void {
    if (limiter && (status === 400 || (status === 401 && code === 'invalid_token'))) {
      limiter.fail(limiter.key(req)).catch((err: unknown) => {
        (logger.error ?? logger.warn).call(logger, `express-secrets-auth: bearerAuth rate-limit store failed: ${describe(err)}`);
      });
    }
    if (challenge !== undefined) res.setHeader('WWW-Authenticate', challenge);
    if (status === 503) res.setHeader('Retry-After', String(retryAfter));
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).json({ error: { code, message } });
  }
  const challenge = (error?: string, description?: string): string =>
    `Bearer realm=${quote(realm)}${scopeParam}${error ? `, error=${quote(error)}` : ''}${description ? `, error_description=${quote(description)}` : ''}`;

  function authenticate(req: Request, res: Response, next: NextFunction): void {
    const got = extract(req, opts);
    if ('none' in got) {
      if (opts.optional) next();
      else refuse(req, res, 401, 'unauthorized', 'Authentication required: send the header Authorization: Bearer <token>.', challenge());
      return;
    }
    if ('malformed' in got) {
      refuse(req, res, 400, 'invalid_request', got.malformed, challenge('invalid_request', got.malformed));
      return;
    }
    const decide = (auth: AuthInfo | null): void => {
      if (!auth) {
        const message = 'The access token is invalid, expired or revoked.';
        refuse(req, res, 401, 'invalid_token', message, challenge('invalid_token', message));
        return;
      }
      const missing = required.length === 0 ? required : required.filter((s) => !auth.scopes.includes(s));
      if (missing.length) {
        const message = `The token lacks the scope(s): ${missing.join(' ')}.`;
        refuse(req, res, 403, 'insufficient_scope', message, challenge('insufficient_scope', message));
        return;
      }
      req.auth = auth;
      next();
    };
    const unavailable = (err: unknown): void => {
      if (err instanceof LimitBusyError) {
        // Overload (bcrypt queue full), not a fault: one short line, and a short Retry-After.
        logger.warn('express-secrets-auth: bearerAuth is overloaded (bcrypt queue full), answering 503');
        refuse(req, res, 503, 'temporarily_unavailable', 'Authentication is temporarily overloaded; retry shortly.', undefined, 1);
        return;
      }
      (logger.error ?? logger.warn).call(logger, `express-secrets-auth: bearerAuth could not verify a token, answering 503: ${describe(err)}`);
      refuse(req, res, 503, 'temporarily_unavailable', 'Authentication is temporarily unavailable; retry shortly.');
    };
    let quick: AuthInfo | null | undefined;
    try {
      quick = opts.tokens.verifySync?.(got.token);
    } catch (err) {
      unavailable(err);
      return;
    }
    if (quick !== undefined) {
      decide(quick);
      return;
    }
    if (!limiter) {
      opts.tokens.verify(got.token).then(decide, unavailable);
      return;
    }
    // A slow verification (backend read, bcrypt) counts against the client's limit while it runs.
    const key = limiter.key(req);
    const wait = limiter.begin(key);
    if (wait > 0) {
      tooMany(res, wait);
      return;
    }
    const settle =
      <T>(then: (value: T) => void) =>
      (value: T): void => {
        try {
          then(value); // a failure is counted here, before the slot is given back
        } finally {
          limiter.end(key);
        }
      };
    opts.tokens.verify(got.token).then(settle(decide), settle(unavailable));
  }

  function tooMany(res: Response, wait: number): void {
    res.setHeader('Retry-After', String(wait));
    res.setHeader('Cache-Control', 'no-store');
    res.status(429).json({ error: { code: 'too_many_requests', message: `Too many failed authentication attempts; retry in ${wait} s.` } });
  }

  if (!limiter) return authenticate;
  return (req, res, next) => {
    const wait = limiter.anyBlocked ? limiter.retryAfter(limiter.key(req)) : 0;
    if (wait === 0) return authenticate(req, res, next);
    tooMany(res, wait);
  };
}
