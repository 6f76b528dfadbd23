import express, { type Request, type Response, type Router } from 'express';
import { MemoryStore, rateLimit } from 'express-rate-limit';
import { describeError } from '../errors';
import type { LeakedTokenStore } from '../tokens/leaked';
import type { Auditor } from './audit';
import { sendError } from './errors';
import { LeakedTokenQueue } from './leaked-queue';
import { requestShape } from './request-shape';
import { wrap } from './routes';
import type { AdminLogger } from './types';
import { parseLeakReport } from './validate';

/** Leak reports accepted per client per minute; more are refused with 429 `rate_limited`. */
export const LEAKED_REPORTS_PER_MINUTE = 10;
/** Body limit of a leak report: 100 tokens of 200 characters, with room for JSON escapes. */
export const LEAKED_BODY_LIMIT = '64kb';

/** What the leak-report route needs. */
export interface LeakedRouteContext {
  /** Verifies and revokes (a TokenStore). */
  store: LeakedTokenStore;
  audit: Auditor;
  logger: AdminLogger;
}

/** The mounted leak-report route: its queue (`idle()` for tests and shutdown), and `close()`: stops the queue and the rate-limit timer. */
export interface LeakedTokenRoute {
  queue: LeakedTokenQueue;
  close(): void;
}

/**
 * Registers `POST /tokens/leaked`, unauthenticated (a secret scanner reports what it found, like
 * GitHub's secret-scanning partners): register it before the router's guard. Rate-limited per
 * client, then a JSON `{ tokens: [...] }` body; the answer is always 202 `{ received }` whatever
 * the tokens are, sent before any of them is checked (the queue revokes those that verify).
 */
export function addLeakedTokenRoute(router: Router, ctx: LeakedRouteContext): LeakedTokenRoute {
  const queue = new LeakedTokenQueue({
    store: ctx.store,
    logger: ctx.logger,
    onVerified: (outcome, origin) =>
      ctx.audit('token.leaked', { anonymous: true, ip: origin.ip }, outcome, { revoked: outcome.revoked, source: outcome.source }),
  });
  const counts = new MemoryStore();
  // express-rate-limit's own warnings (e.g. X-Forwarded-For without `trust proxy`) go to the router's logger, by code.
  const limitLog = (level: 'warn' | 'error') => (err: unknown) =>
    (ctx.logger[level] ?? ctx.logger.warn).call(
      ctx.logger,
      `express-secrets-auth admin: leak-report rate limit: ${describeError(err)}; see the express-rate-limit docs for this code (behind a proxy, set Express's "trust proxy")`,
    );
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: LEAKED_REPORTS_PER_MINUTE,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: counts,
    logger: { warn: limitLog('warn'), error: limitLog('error') },
    handler: (_req: Request, res: Response) =>
      sendError(res, 429, 'rate_limited', `At most ${LEAKED_REPORTS_PER_MINUTE} leak reports per minute per client; retry after the Retry-After seconds.`),
  });
  router.post(
    '/tokens/leaked',
    limiter,
    requestShape,
    express.json({ limit: LEAKED_BODY_LIMIT, strict: true, type: 'application/json' }),
    wrap(async (req, res) => {
      const tokens = parseLeakReport(req.body);
      queue.add(tokens, { ip: req.ip ?? null }); // the queue skips a token already waiting, duplicates included
      res.setHeader('Cache-Control', 'no-store');
      res.status(202).json({ received: tokens.length });
    }),
  );
  return {
    queue,
    close: () => {
      queue.stop();
      counts.shutdown();
    },
  };
}
