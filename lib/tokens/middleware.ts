import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError, describeError } from '../errors';
import { isScope } from '../shared/token-limits';
import { AUTH_PARAM_PATTERN, BearerAnswers, isFailedAttempt, type Refusal, sendRefusal, sendTooMany } from './bearer-answers';
import { decide } from './bearer-decide';
import { extract } from './bearer-extract';
import { blockedFor, limiterOf, takeSlot } from './bearer-limit';
import { LimitBusyError } from './concurrency-limit';
import type { BearerRateLimit } from './rate-limit';
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

/**
 * RFC 6750 bearer-token middleware. On success sets `req.auth = { tokenId, name, scopes, source }`.
 * Refusals are JSON `{ error: { code, message } }`: no credentials 401 (challenge without an error
 * code), malformed 400 `invalid_request`, bad/expired/revoked 401 `invalid_token`, missing scope 403
 * `insufficient_scope`, too many failures (or attempts in flight) 429 (Retry-After), backend down
 * or overloaded 503 `temporarily_unavailable` (fail closed).
 *
 * Each request runs extract (bearer-extract.ts) -> limit (bearer-limit.ts) -> verify (the
 * verifier, synchronously when it can tell at once) -> decide (bearer-decide.ts); the answers
 * are in bearer-answers.ts.
 */
export function bearerAuth(opts: BearerAuthOptions): RequestHandler {
  if (!opts || typeof opts.tokens?.verify !== 'function') throw new ConfigError('bearerAuth: `tokens` (a TokenStore) is required');
  const realm = opts.realm ?? 'api';
  if (!AUTH_PARAM_PATTERN.test(realm)) throw new ConfigError('bearerAuth: realm must be printable ASCII without quotes or backslashes');
  const required = [...new Set(opts.scopes ?? [])];
  if (!required.every(isScope)) throw new ConfigError('bearerAuth: scopes must be scope names without spaces or quotes');
  const logger = opts.logger ?? console;
  const limiter = limiterOf(opts);
  const answers = new BearerAnswers(realm, required);

  function refuse(req: Request, res: Response, refusal: Refusal): void {
    if (limiter && isFailedAttempt(refusal)) {
      limiter.fail(limiter.key(req)).catch((err: unknown) => {
        (logger.error ?? logger.warn).call(logger, `express-secrets-auth: bearerAuth rate-limit store failed: ${describeError(err)}`);
      });
    }
    sendRefusal(res, refusal);
  }

  /** A verification that could not answer: 503, logged without the token. */
  function unavailable(err: unknown): Refusal {
    if (err instanceof LimitBusyError) {
      logger.warn('express-secrets-auth: bearerAuth is overloaded (bcrypt queue full), answering 503');
      return answers.overloaded();
    }
    (logger.error ?? logger.warn).call(logger, `express-secrets-auth: bearerAuth could not verify a token, answering 503: ${describeError(err)}`);
    return answers.unavailable();
  }

  return function authenticate(req: Request, res: Response, next: NextFunction): void {
    const blocked = blockedFor(limiter, req);
    if (blocked > 0) {
      sendTooMany(res, blocked);
      return;
    }
    // 1. extract
    const got = extract(req, opts);
    if ('none' in got) {
      if (opts.optional) next();
      else refuse(req, res, answers.missing());
      return;
    }
    if ('malformed' in got) {
      refuse(req, res, answers.malformed(got.malformed));
      return;
    }
    // 4. decide (runs once verify answers)
    const onAuth = (auth: AuthInfo | null): void => {
      const verdict = decide(auth, required, answers);
      if ('refusal' in verdict) {
        refuse(req, res, verdict.refusal);
        return;
      }
      req.auth = verdict.auth;
      next();
    };
    const onError = (err: unknown): void => refuse(req, res, unavailable(err));
    // 3. verify, without I/O when the verifier can tell at once (cached or static token, malformed)
    let quick: AuthInfo | null | undefined;
    try {
      quick = opts.tokens.verifySync?.(got.token);
    } catch (err) {
      onError(err);
      return;
    }
    if (quick !== undefined) {
      onAuth(quick);
      return;
    }
    // 2. limit: a slow verification holds a slot of the client's limit while it runs
    const slot = takeSlot(limiter, req);
    if ('within' in slot) opts.tokens.verify(got.token).then(slot.within(onAuth), slot.within(onError));
    else sendTooMany(res, slot.wait);
  };
}
