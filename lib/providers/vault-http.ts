import * as http from 'node:http';
import * as https from 'node:https';
import createVaultClient from 'node-vault';
import { createTransport } from './vault-transport';
import { BackendError, BackendUnavailableError, ConflictError, PermissionDeniedError } from '../errors';

export interface VaultTlsOptions {
  /** PEM CA bundle that signs the server certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for TLS client authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Verify the server certificate. Default true; turn off only for local experiments. */
  rejectUnauthorized?: boolean;
}

export interface VaultHttpOptions {
  address: string;
  namespace?: string;
  tls?: VaultTlsOptions;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Retries for idempotent calls on 429, 5xx and network errors. */
  retries: number;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'LIST';

export interface RequestOptions {
  body?: Record<string, unknown>;
  /** Safe to send again after a failure whose effect is unknown. */
  idempotent: boolean;
  /** Resolve with null on 404 instead of rejecting. */
  allowNotFound?: boolean;
  /** Secret path for error messages (never a value). */
  subject: string;
  /** Verb for error messages: "read", "write", ... */
  operation: string;
}

interface ApiResponseError extends Error {
  response?: { statusCode: number; body?: { errors?: unknown[] } };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1_000;

/** 429, 5xx and network failures may pass on a later attempt; 4xx answers will not. */
function isRetryable(err: unknown): boolean {
  return err instanceof BackendUnavailableError;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The HTTP layer of the Vault provider, on top of node-vault (with a lean keep-alive transport in
 * its request hook, see vault-transport.ts): timeouts,
 * bounded retries with full-jitter backoff for idempotent calls, and status codes mapped to
 * typed errors. Raw client errors are never attached as `cause`: they carry request headers,
 * which include the Vault token.
 */
export class VaultHttp {
  private readonly client: ReturnType<typeof createVaultClient>;
  private readonly agent: http.Agent;
  private readonly opts: VaultHttpOptions;
  /** Requests sent, for diagnostics and specs. */
  requestCount = 0;

  constructor(opts: VaultHttpOptions) {
    this.opts = opts;
    const isHttps = opts.address.startsWith('https:');
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          ca: opts.tls?.ca,
          cert: opts.tls?.cert,
          key: opts.tls?.key,
          rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
        })
      : new http.Agent({ keepAlive: true });
    this.client = createVaultClient({
      'request-promise': createTransport(this.agent, opts.timeoutMs),
      // node-vault's default `debug` prints every URL and JSON body when DEBUG=node-vault is set:
      // session data, token records, AppRole secret ids. Never.
      debug: () => undefined,
      endpoint: opts.address,
      namespace: opts.namespace,
      // node-vault falls back to VAULT_TOKEN; the auth layer sets the token explicitly.
      token: '',
    });
    // node-vault also reads VAULT_PREFIX from the environment into every URL; paths here are exact.
    (this.client as { pathPrefix?: string }).pathPrefix = '';
  }

  set token(token: string) {
    this.client.token = token;
  }

  get token(): string {
    return this.client.token;
  }

  /** One logical call: retried (idempotent only) and mapped to typed errors. */
  async request<T = Record<string, unknown>>(method: HttpMethod, path: string, o: RequestOptions): Promise<T | null> {
    const attempts = o.idempotent ? this.opts.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send<T>(method, path, o);
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) throw err;
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling);
      }
    }
  }

  private async send<T>(method: HttpMethod, path: string, o: RequestOptions): Promise<T | null> {
    this.requestCount++;
    const request: Record<string, unknown> = { path: `/${path}`, method };
    if (o.body) request.json = o.body;
    try {
      return (await this.client.request(request as { path: string; method: string })) as T;
    } catch (err) {
      const status = (err as ApiResponseError).response?.statusCode;
      if (status === 404 && o.allowNotFound) return null;
      throw this.mapError(err, o);
    }
  }

  private mapError(err: unknown, o: RequestOptions): Error {
    const response = (err as ApiResponseError).response;
    if (!response) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      if (NETWORK_CODES.has(code) || timedOut) {
        return new BackendUnavailableError(
          timedOut
            ? `Vault at ${this.opts.address} did not answer within ${this.opts.timeoutMs} ms (${o.operation} "${o.subject}"). Check that it is up, or raise timeoutMs.`
            : `Cannot reach Vault at ${this.opts.address} (${code}) to ${o.operation} "${o.subject}". Check that it is running and the address is right.`,
        );
      }
      return new BackendError(`Vault request to ${o.operation} "${o.subject}" failed: ${code}`);
    }
    const status = response.statusCode;
    const first = String(response.body?.errors?.[0] ?? '').slice(0, 200);
    if (status === 403) return new PermissionDeniedError(o.subject, o.operation);
    if (status === 400 && first.includes('check-and-set')) return new ConflictError(o.subject);
    if (status === 503 && /sealed/i.test(first)) {
      return new BackendUnavailableError(`Vault at ${this.opts.address} is sealed; unseal it to ${o.operation} "${o.subject}".`, { status });
    }
    if (status === 429 || status >= 500) {
      return new BackendUnavailableError(`Vault answered ${status} to ${o.operation} "${o.subject}"${first ? `: ${first}` : ''}. Try again later.`, { status });
    }
    return new BackendError(`Vault answered ${status} to ${o.operation} "${o.subject}"${first ? `: ${first}` : ''}.`, { status });
  }

  close(): void {
    this.agent.destroy();
  }
}
