import { BackendError, ConfigError, PermissionDeniedError } from '../errors';
import { parsePath, parsePrefix } from './paths';
import type { PutOptions, SecretEntry, SecretProvider } from './types';
import { type VaultAuth, VaultAuthenticator } from './vault-auth';
import { type HttpMethod, type RequestOptions, VaultHttp, type VaultTlsOptions } from './vault-http';

export type { VaultAuth } from './vault-auth';
export type { VaultTlsOptions } from './vault-http';

export interface VaultProviderOptions {
  /** Server URL, e.g. "https://vault.example:8200". Default: VAULT_ADDR. */
  address?: string;
  /** KV mount path. Default "secret". */
  mount?: string;
  /** KV engine version of the mount, or 'auto' to ask the server once. Default 2. */
  kvVersion?: 1 | 2 | 'auto';
  /** Vault Enterprise / OpenBao namespace. Default: VAULT_NAMESPACE, else none. */
  namespace?: string;
  /** How to obtain a token. Default: `{ method: 'token' }` with VAULT_TOKEN. */
  auth?: VaultAuth;
  tls?: VaultTlsOptions;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** Retries for idempotent calls on 429/5xx/network errors. Default 2. */
  retries?: number;
}

/** A SecretProvider with Vault-specific diagnostics. */
export interface VaultProvider extends SecretProvider {
  readonly kind: 'vault';
  /** HTTP requests sent so far (including retries and logins). */
  readonly requestCount: number;
  /** The mount's KV version, detected on first use when `kvVersion` is 'auto'. */
  kvVersion(): Promise<1 | 2>;
}

interface KvV2Read {
  data?: { data?: Record<string, unknown> | null; metadata?: { version?: number } };
}
interface KvV1Read {
  data?: Record<string, unknown>;
}
interface ListResponse {
  data?: { keys?: string[] };
}
interface MountInfo {
  data?: { type?: string; options?: { version?: string } | null };
}

const encodeSegments = (segments: string[]): string => segments.map(encodeURIComponent).join('/');

/**
 * Vault / OpenBao KV provider (v1 or v2 mounts) built on node-vault. On KV v2, `delete` removes
 * the key's metadata (every version) so nothing lingers, `put` honours `cas`, and
 * `maxVersions` is written to a key's metadata when the key is first created.
 */
export function createVaultProvider(options: VaultProviderOptions = {}, env: NodeJS.ProcessEnv = process.env): VaultProvider {
  const address = (options.address ?? env.VAULT_ADDR ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(address)) throw new ConfigError('vault: address must be an http(s) URL (or set VAULT_ADDR)');
  const mountSegments = parsePath((options.mount ?? 'secret').replace(/^\/+|\/+$/g, ''));
  const mount = encodeSegments(mountSegments);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retries = options.retries ?? 2;
  if (!(timeoutMs > 0)) throw new ConfigError('vault: timeoutMs must be a positive number');
  if (!(Number.isInteger(retries) && retries >= 0 && retries <= 10)) throw new ConfigError('vault: retries must be an integer from 0 to 10');
  if (![1, 2, 'auto', undefined].includes(options.kvVersion)) throw new ConfigError('vault: kvVersion must be 1, 2 or "auto"');

  const http = new VaultHttp({
    address,
    namespace: options.namespace ?? env.VAULT_NAMESPACE,
    tls: options.tls,
    timeoutMs,
    retries,
  });
  const auth = new VaultAuthenticator(http, options.auth ?? { method: 'token' }, env);
  let version: Promise<1 | 2> | undefined = options.kvVersion === 'auto' ? undefined : Promise.resolve(options.kvVersion ?? 2);

  /** Authenticated call; a 403 on a login-based method triggers one fresh login and one retry. */
  async function call<T>(method: HttpMethod, path: string, o: RequestOptions): Promise<T | null> {
    await auth.ensure();
    const token = http.token;
    try {
      return await http.request<T>(method, path, o);
    } catch (err) {
      if (err instanceof PermissionDeniedError && (await auth.reauthenticate(token))) return http.request<T>(method, path, o);
      throw err;
    }
  }

  function detectVersion(): Promise<1 | 2> {
    version ??= call<MountInfo>('GET', `sys/internal/ui/mounts/${mount}`, {
      idempotent: true,
      subject: mountSegments.join('/'),
      operation: 'detect the KV version of mount',
    }).then(
      (info) => {
        if (info?.data?.type && info.data.type !== 'kv') throw new ConfigError(`vault: mount "${mountSegments.join('/')}" is not a KV mount`);
        return info?.data?.options?.version === '2' ? 2 : 1;
      },
      (err) => {
        version = undefined;
        throw err;
      },
    );
    return version;
  }

  return {
    kind: 'vault',

    get requestCount() {
      return http.requestCount;
    },

    kvVersion: detectVersion,

    async get(path) {
      const key = encodeSegments(parsePath(path));
      const o = { idempotent: true, allowNotFound: true, subject: path, operation: 'read' };
      if ((await detectVersion()) === 1) {
        const res = await call<KvV1Read>('GET', `${mount}/${key}`, o);
        return res?.data ? { data: res.data } : null;
      }
      const res = await call<KvV2Read>('GET', `${mount}/data/${key}`, o);
      const data = res?.data?.data;
      return data ? ({ data, version: res?.data?.metadata?.version } satisfies SecretEntry) : null;
    },

    async put(path, data, opts: PutOptions = {}) {
      const key = encodeSegments(parsePath(path));
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BackendError('put: data must be a plain object');
      if ((await detectVersion()) === 1) {
        if (opts.cas !== undefined) {
          throw new ConfigError(`vault: check-and-set needs a KV v2 mount; "${mountSegments.join('/')}" is KV v1`);
        }
        await call('POST', `${mount}/${key}`, { body: data, idempotent: true, subject: path, operation: 'write' });
        return {};
      }
      const body = opts.cas === undefined ? { data } : { data, options: { cas: opts.cas } };
      // A write without cas leaves the same state when repeated; a cas write may not.
      const res = await call<KvV2Read>('POST', `${mount}/data/${key}`, {
        body,
        idempotent: opts.cas === undefined,
        subject: path,
        operation: 'write',
      });
      const written = (res?.data as { version?: number } | undefined)?.version;
      if (written === 1 && opts.maxVersions !== undefined) {
        await call('POST', `${mount}/metadata/${key}`, {
          body: { max_versions: opts.maxVersions },
          idempotent: true,
          subject: path,
          operation: 'write metadata of',
        });
      }
      return { version: written };
    },

    async delete(path) {
      const key = encodeSegments(parsePath(path));
      const o = { idempotent: true, allowNotFound: true, subject: path, operation: 'delete' };
      if ((await detectVersion()) === 1) await call('DELETE', `${mount}/${key}`, o);
      else await call('DELETE', `${mount}/metadata/${key}`, o);
    },

    async list(prefix) {
      const segments = parsePrefix(prefix);
      const folder = segments.length ? `${encodeSegments(segments)}/` : '';
      const base = (await detectVersion()) === 1 ? mount : `${mount}/metadata`;
      const res = await call<ListResponse>('LIST', `${base}/${folder}`, {
        idempotent: true,
        allowNotFound: true, // Vault answers 404 for a folder with no keys
        subject: prefix || '/',
        operation: 'list',
      });
      return [...(res?.data?.keys ?? [])].sort();
    },

    async close() {
      auth.close();
      http.close();
    },
  };
}
