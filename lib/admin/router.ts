import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { durationSeconds } from '../shared/duration';
import { ConfigError } from '../errors';
import { renamedOption } from '../shared/deprecated-option';
import { parsePath } from '../providers/paths';
import { bearerAuth } from '../tokens/middleware';
import type { LeakedTokenStore } from '../tokens/leaked';
import type { TokenVerifier } from '../tokens/types';
import { createAuditor } from './audit';
import { AutoRotator, type DeliveryTarget, deliverToken } from './auto-rotate';
import { errorHandler, sendError } from './errors';
import { addLeakedTokenRoute } from './leaked-route';
import { requestShape } from './request-shape';
import { addTokenRoutes, type RouteContext } from './routes';
import { addSessionRoutes } from './session-routes';
import type { SessionAdminBackend, TokenAdminRouter, TokenAdminRouterOptions } from './types';
import { DEFAULT_MAX_GRACE } from './validate';
import { addUiRoutes } from './ui';

export const BODY_LIMIT = '16kb';

/** `autoRotate.interval` (already ms) became `autoRotate.intervalMs`; the old name works for one minor version. */
const AUTO_ROTATE_INTERVAL_RENAME = {
  owner: 'tokenAdminRouter autoRotate',
  oldName: 'interval',
  newName: 'intervalMs',
  conversion: 'the same number of milliseconds',
};

function durationOption(value: number | string | null | undefined, name: string, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  const s = durationSeconds(value);
  if (s !== undefined && s > 0) return s;
  throw new ConfigError(`tokenAdminRouter: ${name} must be a positive number of seconds or a duration like "90d"`);
}

/** `autoRotate.pathPrefix`, normalised ("token-delivery" by default). */
function deliveryPrefix(value: unknown): string {
  if (value === undefined) return 'token-delivery';
  try {
    if (typeof value === 'string') {
      const segments = parsePath(value.endsWith('/') ? value.slice(0, -1) : value);
      if (segments.length > 0) return segments.join('/');
    }
  } catch {
    // reported below
  }
  throw new ConfigError('tokenAdminRouter: autoRotate.pathPrefix must be a secret folder like "token-delivery" ("/"-separated segments of [A-Za-z0-9._:@+=-])');
}

/** A link target for the page: a path on this site ("/login", not "//host") or an http(s) URL. */
function linkOption(value: unknown, name: string): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && value.length <= 2000 && /^[!-~]+$/.test(value)) {
    if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) return value;
    if (/^https?:\/\/[^/]/i.test(value)) return value;
  }
  throw new ConfigError(`tokenAdminRouter: ${name} must be a path on this site like "/login" or an http(s) URL`);
}

const SESSION_METHODS = ['sessionsOf', 'destroySessionsOf', 'destroyByKey', 'isSessionKey'] as const;

/** `sessions`: a session store with the user operations, or undefined. */
function sessionsOption(value: unknown): SessionAdminBackend | undefined {
  if (value === undefined) return undefined;
  const store = value as Record<string, unknown> | null;
  if (store && SESSION_METHODS.every((m) => typeof store[m] === 'function')) return value as SessionAdminBackend;
  throw new ConfigError(`tokenAdminRouter: sessions must be a SecretsSessionStore (with ${SESSION_METHODS.join(', ')})`);
}

/**
 * The token management API and page, to mount under a path, e.g.
 * `app.use('/api/v2/auth', tokenAdminRouter({ tokens }))`. Routes: `POST /tokens`, `GET /tokens`,
 * `GET /tokens/:id`, `DELETE /tokens/:id`, `POST /tokens/:id/rotate`, `GET /me`, and `GET /ui`
 * (and `POST /tokens/leaked`, unauthenticated, with `leakedTokenEndpoint`). API routes are guarded by `bearerAuth` with the `admin` scope unless `guard` is given.
 */
export function tokenAdminRouter(opts: TokenAdminRouterOptions): TokenAdminRouter {
  if (!opts || typeof opts.tokens?.list !== 'function') throw new ConfigError('tokenAdminRouter: `tokens` (a TokenStore) is required');
  const logger = opts.logger ?? console;
  const now = opts.now ?? Date.now;
  const createdBy = opts.createdBy ?? ((req: Request) => req.auth?.name ?? null);
  if (opts.allowedScopes !== undefined && (!Array.isArray(opts.allowedScopes) || !opts.allowedScopes.every((s) => typeof s === 'string'))) {
    throw new ConfigError('tokenAdminRouter: allowedScopes must be a list of scope names');
  }
  let guards: RequestHandler[];
  if (opts.guard !== undefined) {
    guards = Array.isArray(opts.guard) ? opts.guard : [opts.guard];
    if (!guards.every((g) => typeof g === 'function')) throw new ConfigError('tokenAdminRouter: guard must be a middleware function or a list of them');
  } else {
    if (typeof opts.tokens.verify !== 'function') throw new ConfigError('tokenAdminRouter: pass a TokenStore as `tokens`, or your own `guard`');
    const verifier = { verify: opts.tokens.verify.bind(opts.tokens), failureLimiter: (opts.tokens as TokenVerifier).failureLimiter };
    guards = [bearerAuth({ tokens: verifier, scopes: [opts.adminScope ?? 'admin'], realm: opts.realm ?? 'admin', logger })];
  }

  const sessions = sessionsOption(opts.sessions);
  if (opts.tokenSignIn !== undefined && typeof opts.tokenSignIn !== 'boolean') throw new ConfigError('tokenAdminRouter: tokenSignIn must be true or false');
  if (opts.leakedTokenEndpoint !== undefined && typeof opts.leakedTokenEndpoint !== 'boolean') {
    throw new ConfigError('tokenAdminRouter: leakedTokenEndpoint must be true or false');
  }
  let leakStore: LeakedTokenStore | null = null;
  if (opts.leakedTokenEndpoint) {
    const { tokens } = opts;
    if (typeof tokens.verify !== 'function') {
      throw new ConfigError('tokenAdminRouter: leakedTokenEndpoint needs a TokenStore as `tokens` (one with verify) to check reported tokens');
    }
    leakStore = { verify: tokens.verify.bind(tokens), revoke: tokens.revoke.bind(tokens) };
  }
  const ui = {
    mode: opts.guard === undefined ? ('token' as const) : ('guard' as const),
    tokenSignIn: opts.tokenSignIn ?? opts.guard === undefined,
    signInUrl: linkOption(opts.signInUrl, 'signInUrl'),
    appUrl: linkOption(opts.appUrl, 'appUrl'),
    sessions: sessions !== undefined,
  };

  const auditors = createAuditor({ onAudit: opts.onAudit, logger, now, createdBy });
  const ctx: RouteContext = {
    tokens: opts.tokens,
    now,
    createdBy,
    expiringWithinMs: (durationOption(opts.expiringWithin, 'expiringWithin', 7 * 86_400) as number) * 1000,
    limits: {
      maxTtl: durationOption(opts.maxTtl, 'maxTtl', null),
      maxGrace: durationOption(opts.maxGrace, 'maxGrace', DEFAULT_MAX_GRACE) as number,
      allowedScopes: opts.allowedScopes ? [...opts.allowedScopes] : null,
      autoRotate: Boolean(opts.autoRotate),
      deliveryPrefix: opts.autoRotate ? deliveryPrefix(opts.autoRotate.pathPrefix) : null,
    },
    audit: auditors.token,
  };

  const auto = opts.autoRotate || null;
  if (auto && typeof auto.provider?.put !== 'function')
    throw new ConfigError('tokenAdminRouter: autoRotate.provider (where new tokens are delivered) is required');
  const intervalMs = auto ? renamedOption<number>(auto, AUTO_ROTATE_INTERVAL_RENAME) : undefined;
  if (intervalMs !== undefined && !(Number.isFinite(intervalMs) && intervalMs >= 1000)) {
    throw new ConfigError('tokenAdminRouter: autoRotate.intervalMs must be at least 1000 ms');
  }
  const target: DeliveryTarget | null = auto ? { provider: auto.provider, prefix: ctx.limits.deliveryPrefix as string } : null;
  if (target) ctx.deliver = (path, token, info) => deliverToken(target, path, token, info);
  const rotator = target
    ? new AutoRotator({
        tokens: opts.tokens,
        target,
        graceSeconds: durationOption(auto?.grace, 'autoRotate.grace', 3600) as number,
        intervalMs: intervalMs ?? 60_000,
        logger,
        now,
        audit: ctx.audit,
      })
    : null;

  const router = express.Router() as TokenAdminRouter;
  if (opts.ui !== false) addUiRoutes(router, ui);
  // Before the guard: leak reports come from anonymous scanners.
  const leaked = leakStore ? addLeakedTokenRoute(router, { store: leakStore, audit: ctx.audit, logger }) : null;
  const api = sessions ? ['/tokens', '/me', '/sessions', '/users'] : ['/tokens', '/me'];
  router.use(api, requestShape, ...guards, express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' }));
  addTokenRoutes(router, ctx);
  if (sessions) addSessionRoutes(router, { sessions, audit: auditors.session });
  // Unknown paths under the mount point: a JSON 404 (left alone when mounted at the app's root).
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!req.baseUrl) return next();
    sendError(res, 404, 'not_found', `No route ${req.method} ${req.baseUrl}${req.path.slice(0, 200)}. See the token API routes under ${req.baseUrl}/tokens.`);
  });
  router.use(errorHandler(logger));
  router.rotateDue = () => (rotator ? rotator.runOnce() : Promise.resolve([]));
  router.close = async () => {
    leaked?.close();
    await Promise.all([rotator?.stop(), leaked?.queue.idle()]);
  };
  router.leakedIdle = () => leaked?.queue.idle() ?? Promise.resolve();
  rotator?.start();
  return router;
}
