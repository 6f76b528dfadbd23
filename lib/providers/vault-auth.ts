import { promises as fs } from 'node:fs';
import { ConfigError } from '../errors';
import type { VaultHttp } from './vault-http';
import { laterUnref } from '../timers';

export type VaultAuth =
  | { method: 'token'; token?: string }
  | { method: 'approle'; roleId?: string; secretId?: string; mountPath?: string }
  | { method: 'kubernetes'; role: string; jwtPath?: string; mountPath?: string };

const DEFAULT_K8S_JWT = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** Renew (or log in again) when this fraction of the lease has passed. */
const RENEW_AT = 2 / 3;

interface AuthResponse {
  auth?: { client_token?: string; lease_duration?: number; renewable?: boolean };
  data?: { ttl?: number; renewable?: boolean };
}

/**
 * Keeps the HTTP client holding a valid Vault token: a static token (renewed before it expires
 * when renewable), or an AppRole / Kubernetes login that is renewed, and redone when renewal is
 * no longer possible. Timers are unref'd and stopped by `close()`.
 */
export class VaultAuthenticator {
  private ready?: Promise<void>;
  /** Whether `ready` has resolved: then a request needs no wait (no promise hop on the hot path). */
  private started = false;
  private relogin?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly http: VaultHttp,
    private readonly auth: VaultAuth,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    validateAuth(auth, env);
  }

  /** Whether a token is in place (the first login or lookup has succeeded). */
  get isReady(): boolean {
    return this.started;
  }

  /** Resolves once a token is in place; the first call logs in. */
  ensure(deadline?: number): Promise<void> {
    this.ready ??= this.start(deadline).then(
      () => {
        this.started = true;
      },
      (err) => {
        this.ready = undefined; // let the next request try again
        throw err;
      },
    );
    return this.ready;
  }

  /**
   * Logs in again after `failedToken` got a 403 (login-based methods only). Concurrent callers
   * share one login, and a caller whose token was already replaced just retries with the new one,
   * so an expired token under load costs one login, not one per request.
   */
  async reauthenticate(failedToken: string): Promise<boolean> {
    if (this.auth.method === 'token') return false;
    if (this.http.token !== failedToken) return true;
    this.relogin ??= this.login().finally(() => {
      this.relogin = undefined;
    });
    await this.relogin;
    return true;
  }

  private async start(deadline?: number): Promise<void> {
    if (this.auth.method === 'token') {
      this.http.token = this.auth.token ?? this.env.VAULT_TOKEN ?? '';
      // Learn once whether the token expires; a failed lookup (e.g. a policy without
      // lookup-self) must not stop requests: the token is then used as it is.
      await this.lookupAndSchedule(deadline).catch(() => undefined);
      return;
    }
    await this.login(deadline);
  }

  // The current (maybe expired) token stays in place while logging in: login paths ignore it, and
  // requests in flight meanwhile keep a token instead of going out with none.
  private async login(deadline?: number): Promise<void> {
    const { path, body } = await this.loginRequest();
    const response = await this.http.request<AuthResponse>('POST', path, {
      body,
      deadline,
      idempotent: true,
      subject: path,
      operation: 'log in at',
    });
    const token = response?.auth?.client_token;
    if (!token) throw new ConfigError(`Vault login at "${path}" returned no client token`);
    this.http.token = token;
    this.schedule(response?.auth?.lease_duration ?? 0, response?.auth?.renewable ?? false);
  }

  private async loginRequest(): Promise<{ path: string; body: Record<string, unknown> }> {
    const auth = this.auth;
    if (auth.method === 'approle') {
      return {
        path: `auth/${auth.mountPath ?? 'approle'}/login`,
        body: { role_id: auth.roleId ?? this.env.VAULT_ROLE_ID, secret_id: auth.secretId ?? this.env.VAULT_SECRET_ID },
      };
    }
    if (auth.method === 'kubernetes') {
      const jwtPath = auth.jwtPath ?? DEFAULT_K8S_JWT;
      const jwt = (
        await fs.readFile(jwtPath, 'utf8').catch(() => {
          throw new ConfigError(`vault auth kubernetes: cannot read the service account token at ${jwtPath}`);
        })
      ).trim();
      return { path: `auth/${auth.mountPath ?? 'kubernetes'}/login`, body: { role: auth.role, jwt } };
    }
    throw new ConfigError('vault auth: token method has no login');
  }

  private async lookupAndSchedule(deadline?: number): Promise<void> {
    const response = await this.http.request<AuthResponse>('GET', 'auth/token/lookup-self', {
      deadline,
      idempotent: true,
      subject: 'auth/token/lookup-self',
      operation: 'look up',
    });
    this.schedule(response?.data?.ttl ?? 0, response?.data?.renewable ?? false);
  }

  /** Plans the next renewal (or re-login) at 2/3 of the lease; a ttl of 0 never expires. */
  private schedule(ttlSeconds: number, renewable: boolean): void {
    clearTimeout(this.timer);
    if (this.closed || ttlSeconds <= 0) return;
    const canRelogin = this.auth.method !== 'token';
    if (!renewable && !canRelogin) return;
    this.timer = laterUnref(() => void this.refresh(renewable).catch(() => undefined), ttlSeconds * 1000 * RENEW_AT);
  }

  private async refresh(renewable: boolean): Promise<void> {
    if (renewable) {
      try {
        const response = await this.http.request<AuthResponse>('POST', 'auth/token/renew-self', {
          body: {},
          idempotent: true,
          subject: 'auth/token/renew-self',
          operation: 'renew',
        });
        const ttl = response?.auth?.lease_duration ?? 0;
        // Renewal can be capped by max TTL: once the lease stops growing, log in again instead.
        if (ttl > 1) {
          this.schedule(ttl, response?.auth?.renewable ?? false);
          return;
        }
      } catch {
        // fall through to a fresh login where the method allows one
      }
    }
    if (this.auth.method !== 'token') await this.reauthenticate(this.http.token);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

function validateAuth(auth: VaultAuth, env: NodeJS.ProcessEnv): void {
  if (!auth || typeof auth !== 'object') throw new ConfigError('vault: auth is required ({ method: "token" | "approle" | "kubernetes", ... })');
  switch (auth.method) {
    case 'token':
      if (!auth.token && !env.VAULT_TOKEN) throw new ConfigError('vault auth token: set auth.token or the VAULT_TOKEN environment variable');
      return;
    case 'approle':
      if (!(auth.roleId ?? env.VAULT_ROLE_ID)) throw new ConfigError('vault auth approle: set auth.roleId or VAULT_ROLE_ID');
      if (!(auth.secretId ?? env.VAULT_SECRET_ID)) throw new ConfigError('vault auth approle: set auth.secretId or VAULT_SECRET_ID');
      return;
    case 'kubernetes':
      if (!auth.role) throw new ConfigError('vault auth kubernetes: auth.role is required');
      return;
    default:
      throw new ConfigError(`vault: unknown auth method "${String((auth as { method?: unknown }).method)}" (use token, approle or kubernetes)`);
  }
}
