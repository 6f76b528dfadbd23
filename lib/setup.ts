import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import { loadConfig, parseConfig } from './config/load';
import { createProvidersFromConfig } from './config/providers';
import type { AuthConfig, YamlStaticToken } from './config/schema';
import { toMs } from './config/to-ms';
import { watchSecretRefs } from './config/watch';
import type { SecretRefWatcher } from './shared/watcher';
import { tokenAdminRouter } from './admin/router';
import type { AuditEvent, TokenAdminRouter, TokenAdminRouterOptions } from './admin/types';
import { ConfigError, describeError } from './errors';
import { createMemoryProvider } from './providers/memory';
import type { SecretProvider } from './providers/types';
import { SecretsSessionStore } from './session/store';
import { type BearerAuthOptions, bearerAuth } from './tokens/middleware';
import { TokenStore } from './tokens/store';
import type { StaticTokenConfig, TokenLogger } from './tokens/types';

/** Options for `createAuthFromConfig`. */
export interface AuthFromConfigOptions {
  /** Environment for `${env:NAME}` references and VAULT_* fallbacks. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Folder relative paths in the config are resolved against. Default: the working directory. */
  baseDir?: string;
  /** Where background failures are reported. Default `console`. */
  logger?: TokenLogger & { info(message: string): void };
  /**
   * The user a session belongs to (the session store's `userOf`): keeps the per-user index, and
   * gives `adminRouter()` its session routes and page view. Default none.
   */
  userOf?: (session: SessionData) => string | undefined;
  /**
   * Audit events of the token store (`token.reuse_detected`, `token.expiring`) and of every
   * `adminRouter()` (unless given there). Failures are logged, never thrown. Default none.
   */
  onAudit?: (event: AuditEvent) => void | Promise<void>;
}

/** Everything a config file describes, wired together. Call `close()` on shutdown. */
export interface ConfiguredAuth {
  config: AuthConfig;
  /** The providers by name (`file`, `vault`, `memory`). */
  providers: Record<string, SecretProvider>;
  /** The express-session store (`authentication.session.storage`). */
  sessionStore: SecretsSessionStore;
  /** The token store (`authentication.methods.token`); static tokens follow `secrets.refresh_interval`. */
  tokens: TokenStore;
  /**
   * `bearerAuth` bound to the token store. Tokens are required unless `authentication.required` is
   * false, in which case requests without one pass without `req.auth`.
   */
  bearerAuth(opts?: Omit<BearerAuthOptions, 'tokens'>): RequestHandler;
  /** `tokenAdminRouter` bound to the token store, with auto-rotation when `auto_rotate` is on. */
  adminRouter(opts?: Omit<TokenAdminRouterOptions, 'tokens'>): TokenAdminRouter;
  /**
   * Stops timers (sweeper, reference refresh, auto-rotation), then closes the providers, each once.
   * Calling it again returns the first call's promise.
   */
  close(): Promise<void>;
}

/** The config's static tokens in `TokenStore` form (list form with `metadata.name` -> `name`). */
function toStaticTokens(tokens: YamlStaticToken[]): StaticTokenConfig[] {
  return tokens.map((t) => ({
    name: t.metadata.name,
    credential: t.credential,
    credential_hash: t.credential_hash,
    scopes: t.scopes,
    description: t.metadata.description,
    metadata: t.metadata,
  }));
}

function pick(providers: Record<string, SecretProvider>, name: string, where: string): SecretProvider {
  const provider = providers[name];
  if (!provider) throw new ConfigError(`${where}: provider "${name}" is not enabled`);
  return provider;
}

/**
 * Runs `closers` last-registered first (without reordering the array), then closes the providers.
 * Every closer runs even if one fails; the first failure is then thrown.
 */
async function closeInReverse(closers: readonly (() => unknown)[], providers: Record<string, SecretProvider>): Promise<void> {
  const failures: unknown[] = [];
  for (let i = closers.length - 1; i >= 0; i--) {
    await Promise.resolve()
      .then(closers[i])
      .catch((err: unknown) => failures.push(err));
  }
  const closed = await Promise.allSettled(Object.values(providers).map((p) => p.close()));
  for (const result of closed) if (result.status === 'rejected') failures.push(result.reason);
  if (failures.length > 0) throw failures[0];
}

/**
 * Builds the session store, token store, bearer middleware and admin router from a config file
 * path or an already parsed config (see README "Configuration file"). Secret references are
 * resolved here; a missing one is a startup error that names the reference.
 */
export async function createAuthFromConfig(source: string | AuthConfig | Record<string, unknown>, opts: AuthFromConfigOptions = {}): Promise<ConfiguredAuth> {
  const config = typeof source === 'string' ? await loadConfig(source) : parseConfig(source);
  const providers = await createProvidersFromConfig(config.secrets.providers, { env: opts.env, baseDir: opts.baseDir });
  const closers: (() => unknown)[] = [];
  let closing: Promise<void> | undefined;
  try {
    const auth = config.authentication;
    const sessionCfg = auth.session.storage.type === 'secrets' ? auth.session.storage.secrets : undefined;
    const sessionStore = new SecretsSessionStore({
      provider: sessionCfg ? pick(providers, sessionCfg.provider, 'authentication.session.storage.secrets') : createMemoryProvider(),
      path: sessionCfg?.path,
      prefix: sessionCfg?.prefix,
      ttl: sessionCfg?.ttl,
      touchAfter: sessionCfg?.touch_after,
      cache: sessionCfg?.cache.enabled ? { ttlMs: toMs(sessionCfg.cache.ttl), max: sessionCfg.cache.max } : undefined,
      cleanupIntervalMs: toMs(sessionCfg?.cleanup_interval),
      userOf: opts.userOf,
    });
    closers.push(() => sessionStore.close());

    const tokenCfg = auth.methods.token;
    const stored = tokenCfg.storage.type === 'secrets' ? tokenCfg.storage.secrets : undefined;
    const watcher: SecretRefWatcher<StaticTokenConfig[]> = await watchSecretRefs(toStaticTokens(tokenCfg.enabled ? tokenCfg.tokens : []), providers, {
      refreshIntervalMs: toMs(config.secrets.refresh_interval ?? 0),
      env: opts.env,
      onError: (err) => (opts.logger ?? console).warn(`express-secrets-auth: static tokens not refreshed: ${describeError(err)}`),
    });
    closers.push(() => watcher.close());
    const tokens = new TokenStore({
      provider: stored ? pick(providers, stored.provider, 'authentication.methods.token.storage.secrets') : createMemoryProvider(),
      path: stored?.path,
      ttl: stored?.ttl ?? null,
      maxTtl: stored?.max_ttl ?? null,
      bcryptCost: stored?.bcrypt_cost,
      verifyCacheTtlMs: toMs(stored?.verify_cache_ttl),
      acceptImported: stored?.accept_imported,
      reuseWindow: stored?.reuse_window,
      revokeOnReuse: stored?.revoke_on_reuse,
      notifyBefore: stored?.notify_before,
      expiryCheckIntervalMs: toMs(stored?.expiry_check_interval),
      onAudit: opts.onAudit,
      staticTokens: watcher,
      logger: opts.logger,
    });
    closers.push(() => tokens.close());

    const routers: TokenAdminRouter[] = [];
    // Each router's close() resolves once a rotation pass or leak check in flight has ended, so
    // nothing is still reading the token store when it and the providers close.
    closers.push(() => Promise.all(routers.map((router) => router.close())));
    return {
      config,
      providers,
      sessionStore,
      tokens,
      bearerAuth: (o = {}) => bearerAuth({ optional: !auth.required, logger: opts.logger, ...o, tokens }),
      adminRouter: (o = {}) => {
        const router = tokenAdminRouter({
          maxTtl: stored?.max_ttl ?? null,
          autoRotate: stored?.auto_rotate ? { provider: pick(providers, stored.provider, 'auto_rotate') } : false,
          leakedTokenEndpoint: stored?.leaked_token_endpoint ?? false,
          logger: opts.logger,
          ...(opts.onAudit ? { onAudit: opts.onAudit } : {}),
          ...(opts.userOf ? { sessions: sessionStore } : {}),
          ...o,
          tokens,
        });
        routers.push(router);
        return router;
      },
      close: () => {
        // Once: a second call gets the first call's promise, so nothing is closed twice.
        closing ??= closeInReverse(closers, providers);
        return closing;
      },
    };
  } catch (err) {
    await closeInReverse(closers, providers).catch(() => undefined);
    throw err;
  }
}
