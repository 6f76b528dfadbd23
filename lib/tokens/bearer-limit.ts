import type { Request } from 'express';
import { ConfigError } from '../errors';
import { type BearerRateLimit, FailureLimiter } from './rate-limit';
import type { TokenVerifier } from './types';

/** The store's shared limiter, unless this middleware opts out; a limiter of its own only for verifiers without one. */
export function limiterOf(opts: { tokens: TokenVerifier; rateLimit?: false | BearerRateLimit }): FailureLimiter | null {
  if (opts.rateLimit === false) return null;
  const shared = opts.tokens.failureLimiter;
  if (shared === undefined) return new FailureLimiter(opts.rateLimit ?? {}, 'bearerAuth');
  if (opts.rateLimit !== undefined) {
    throw new ConfigError(
      'bearerAuth: set rateLimit on the TokenStore (one failure limit per store, shared by every bearerAuth on it), or pass rateLimit: false',
    );
  }
  return shared;
}

/** Seconds the client of `req` must wait because of earlier failures (0: go on). Cheap while nobody is blocked. */
export function blockedFor(limiter: FailureLimiter | null, req: Request): number {
  return limiter?.anyBlocked ? limiter.retryAfter(limiter.key(req)) : 0;
}

/** A slow verification's place in the client's limit: `wait`, seconds to answer 429 with; or `within`, which wraps what runs when it ends. */
export type Slot = { wait: number } | { within: <T>(then: (value: T) => void) => (value: T) => void };

/**
 * Step 2 of bearerAuth for a slow verification (backend read, bcrypt): it counts against the
 * client's limit while it runs. A failure is counted inside `within`, before the slot is given back.
 */
export function takeSlot(limiter: FailureLimiter | null, req: Request): Slot {
  if (!limiter) return { within: (then) => then };
  const key = limiter.key(req);
  const wait = limiter.begin(key);
  if (wait > 0) return { wait };
  return {
    within:
      <T>(then: (value: T) => void) =>
      (value: T): void => {
        try {
          then(value);
        } finally {
          limiter.end(key);
        }
      },
  };
}
