// A test app: express (5, or 4 where a spec file maps 'express' to 'express4') + TokenStore + tokenAdminRouter at /api/v2/auth, and a route the
// created tokens protect (/api/data). Audit events and log lines are captured.
import type { Express, RequestHandler } from 'express';
import express from 'express';
import {
  bearerAuth,
  createMemoryProvider,
  type SecretProvider,
  tokenAdminRouter,
  type TokenAdminRouter,
  type TokenAdminRouterOptions,
  TokenStore,
  type TokenStoreOptions,
} from '../../lib';
import type { AuditEvent, TokenAuditEvent } from '../../lib/admin/types';

export interface AdminApp {
  app: Express;
  store: TokenStore;
  provider: SecretProvider;
  adminToken: string;
  audit: AuditEvent[];
  logs: string[];
  clock: { now: number };
  /** Mount path of the router. */
  base: string;
  router: TokenAdminRouter;
}

export interface AdminAppOptions {
  provider?: SecretProvider;
  router?: Partial<TokenAdminRouterOptions>;
  store?: Partial<TokenStoreOptions>;
  /** Mount path. Default "/api/v2/auth". */
  base?: string;
  /** Middleware run before the router (e.g. a fake session). */
  before?: RequestHandler[];
}

/** A static token from config, read-only in the API. */
export const CONFIG_TOKEN = { name: 'deploy-bot', credential: 'static-deploy-credential-0123456789', scopes: ['deploy'] };

export async function makeAdminApp(opts: AdminAppOptions = {}): Promise<AdminApp> {
  const clock = { now: Date.now() };
  const logs: string[] = [];
  const audit: AuditEvent[] = [];
  const logger = { info: (m: string) => logs.push(`info ${m}`), warn: (m: string) => logs.push(`warn ${m}`), error: (m: string) => logs.push(`error ${m}`) };
  const provider = opts.provider ?? createMemoryProvider();
  const store = new TokenStore({
    provider,
    bcryptCost: 4,
    now: () => clock.now,
    staticTokens: [CONFIG_TOKEN],
    logger,
    ...opts.store,
  });
  const { token: adminToken } = await store.create({ name: 'root-admin', scopes: ['admin'], createdBy: 'setup', expiresIn: opts.store?.maxTtl ? 3600 : null });
  const base = opts.base ?? '/api/v2/auth';
  const app = express();
  for (const mw of opts.before ?? []) app.use(mw);
  app.get('/api/data', bearerAuth({ tokens: store, rateLimit: false, logger }), (req, res) => {
    res.json({ ok: true, who: req.auth?.name });
  });
  const router = tokenAdminRouter({ tokens: store, logger, onAudit: (e) => void audit.push(e), now: () => clock.now, ...opts.router });
  app.use(base, router);
  app.use((_req, res) => {
    res.status(404).json({ app: 'not found' });
  });
  return { app, store, provider, adminToken, audit, logs, clock, base, router };
}

/** `Authorization` header for a token. */
export const bearer = (token: string): { Authorization: string } => ({ Authorization: `Bearer ${token}` });

/** The token events of an audit list (the ones with a `token`). */
export const tokenEvents = (events: AuditEvent[]): TokenAuditEvent[] => events.filter((e): e is TokenAuditEvent => 'token' in e);
