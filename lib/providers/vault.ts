import { isDeepStrictEqual } from 'node:util';
import { BackendError, ConfigError, ConflictError, PermissionDeniedError } from '../errors';
import { parsePath, parsePrefix } from './paths';
import type { PutOptions, SecretEntry, SecretProvider } from './types';
import { type VaultAuth, VaultAuthenticator } from './vault-auth';
import type { VaultConsistency } from './vault-consistency';
import { type HttpMethod, type RequestOptions, VaultHttp, type VaultTlsOptions, type WriteCheck } from './vault-http';
import { checkMountMaxVersions } from './vault-mount-check';

export type { VaultAuth } from './vault-auth';
export type { VaultConsistency } from './vault-consistency';
export type { VaultTlsOptions } from './vault-http';
export { MAX_VERSIONS_WARNING } from './vault-mount-check';

/** Failover budget with several addresses: covers OpenBao's default election (~10 s) with margin. */
const DEFAULT_FAILOVER_BUDGET_MS = 20_000;

export interface VaultProviderOptions {
  /** Server URL, e.g. "https://vault.example:8200" (one node, or a load balancer). Default: VAULT_ADDR. */
  address?: string;
  /**
   * Every node of an HA cluster, e.g. ["http://n1:8200", "http://n2:8200", "http://n3:8200"]
   * (instead of `address`). The provider finds the active node, sends writes there and fails over.
   */
  addresses?: string[];
  /**
   * 'strong' (default): every read reflects every write acknowledged to any instance (answered by
   * the active node). 'eventual': standbys may answer reads (spread over `addresses`); a process
   * still always reads its own writes.
   */
  consistency?: VaultConsistency;
  /**
   * How long one provider call may keep failing over and retrying through a leader election, in
   * ms. Default 20000 with several `addresses`, 0 with one (then `retries` alone bounds a call).
   */
  failoverBudgetMs?: number;
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
  /** Retries for idempotent calls on 429/5xx/network errors when there is no failover budget. Default 2. */
  retries?: number;
}

/** A SecretProvider with Vault-specific diagnostics. */
export interface VaultProvider extends SecretProvider {
  readonly kind: 'vault';
  /** HTTP requests sent so far (including retries and logins). */
  readonly requestCount: number;
  /** The mount's KV version, detected on first use when `kvVersion` is 'auto'. */
  kvVersion(): Promise<1 | 2>;
  /** True on a KV v2 mount, false on KV v1 (which has no check-and-set). */
  supportsCheckAndSet(): Promise<boolean>;
}

interface KvV2Read {
  data?: { data?: Record<string, unknown> | null; metadata?: { version?: number } };
}
interface KvV2Write {
  data?: { version?: number };
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
 * Vault / OpenBao KV provider (v1 or v2 mounts) built on node-vault, for one server or every node
 * of an HA cluster. On KV v2, `delete` removes the key's metadata (every version) so nothing
 * lingers and `put` honours `cas`; the history bound is the mount's `max_versions`, checked once
 * at start (a warning, never a failure), so a write is one request.
 */
export function createVaultProvider(options: VaultProviderOptions = {}, env: NodeJS.ProcessEnv = process.env): VaultProvider {
  const addresses = vaultAddresses(options, env);
  const mountSegments = parsePath((options.mount ?? 'secret').replace(/^\/+|\/+$/g, ''));
  const mount = encodeSegments(mountSegments);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retries = options.retries ?? 2;
  const consistency = options.consistency ?? 'strong';
  const failoverBudgetMs = options.failoverBudgetMs ?? (addresses.length > 1 ? DEFAULT_FAILOVER_BUDGET_MS : 0);
  if (!(timeoutMs > 0)) throw new ConfigError('vault: timeoutMs must be a positive number');
  if (!(Number.isInteger(retries) && retries >= 0 && retries <= 10)) throw new ConfigError('vault: retries must be an integer from 0 to 10');
  if (![1, 2, 'auto', undefined].includes(options.kvVersion)) throw new ConfigError('vault: kvVersion must be 1, 2 or "auto"');
  if (consistency !== 'strong' && consistency !== 'eventual') throw new ConfigError('vault: consistency must be "strong" or "eventual"');
  if (!(Number.isFinite(failoverBudgetMs) && failoverBudgetMs >= 0 && failoverBudgetMs <= 600_000)) {
    throw new ConfigError('vault: failoverBudgetMs must be a number of ms from 0 to 600000');
  }

  const http = new VaultHttp({
    addresses,
    namespace: options.namespace ?? env.VAULT_NAMESPACE,
    tls: options.tls,
    timeoutMs,
    retries,
    failoverBudgetMs,
    consistency,
  });
  const auth = new VaultAuthenticator(http, options.auth ?? { method: 'token' }, env);
  let version: Promise<1 | 2> | undefined = options.kvVersion === 'auto' ? undefined : Promise.resolve(options.kvVersion ?? 2);

  /** Authenticated call; a 403 on a login-based method triggers one fresh login and one retry. */
  /** When a provider call starting now must end: the failover budget bounds the whole call. */
  const callDeadline = (): number | undefined => (failoverBudgetMs > 0 ? Date.now() + failoverBudgetMs : undefined);

  async function call<T>(method: HttpMethod, path: string, o: RequestOptions<T>): Promise<T | null> {
    if (!auth.isReady) await auth.ensure(o.deadline);
    const token = http.token;
    try {
      return await http.request<T>(method, path, o);
    } catch (err) {
      if (err instanceof PermissionDeniedError && (await auth.reauthenticate(token))) return http.request<T>(method, path, o);
      throw err;
    }
  }

  let mountChecked: Promise<void> | undefined;
  /** The KV version once detected and (KV v2) the mount checked: later calls need no wait. */
  let settledKv: 1 | 2 | undefined;
  /** The mount's KV version; on KV v2 the first call also checks the mount's max_versions (once). */
  async function kv(deadline: number | undefined): Promise<1 | 2> {
    if (settledKv) return settledKv;
    const v = await detectVersion(deadline);
    if (v === 1) settledKv = 1;
    else {
      // One attempt (best effort, within the call's deadline): an unavailable server is checked
      // again on the next call, and the operation itself reports the outage.
      mountChecked ??= checkMountMaxVersions(
        () => call('GET', `${mount}/config`, { idempotent: false, subject: `${mountSegments.join('/')}/config`, operation: 'read the mount config', deadline }),
        { address: addresses.join(', '), mount: mountSegments.join('/') },
      ).then((checked) => {
        if (checked) settledKv = 2;
        else mountChecked = undefined;
      });
      await mountChecked;
    }
    return v;
  }

  function readV2(key: string, path: string, deadline?: number): Promise<KvV2Read | null> {
    return call<KvV2Read>('GET', `${mount}/data/${key}`, { idempotent: true, allowNotFound: true, subject: path, operation: 'read', deadline });
  }

  function detectVersion(deadline?: number): Promise<1 | 2> {
    version ??= call<MountInfo>('GET', `sys/internal/ui/mounts/${mount}`, {
      deadline,
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

  /**
   * After a check-and-set write whose answer was lost: it applied when the key is now at
   * version cas + 1 with exactly this data; it surely did not when the key is still at `cas`.
   * Anything else is a concurrent change (ConflictError).
   */
  async function checkCasWrite(key: string, path: string, data: Record<string, unknown>, cas: number, deadline?: number): Promise<WriteCheck<KvV2Write>> {
    const current = await readV2(key, path, deadline);
    const stored = current?.data?.data ? current.data : null;
    const version = stored?.metadata?.version ?? 0;
    if (version === cas + 1 && isDeepStrictEqual(stored?.data, JSON.parse(JSON.stringify(data)))) {
      return { applied: true, value: { data: { version } } };
    }
    if (version === cas) return { applied: false };
    throw new ConflictError(path, cas, version);
  }

  return {
    kind: 'vault',

    get requestCount() {
      return http.requestCount;
    },

    kvVersion: () => detectVersion(callDeadline()),

    async supportsCheckAndSet() {
      return (await detectVersion(callDeadline())) === 2;
    },

    async get(path) {
      const key = encodeSegments(parsePath(path));
      const deadline = callDeadline();
      if ((settledKv ?? (await kv(deadline))) === 1) {
        const res = await call<KvV1Read>('GET', `${mount}/${key}`, { idempotent: true, allowNotFound: true, subject: path, operation: 'read', deadline });
        return res?.data ? { data: res.data } : null;
      }
      const res = await readV2(key, path, deadline);
      const data = res?.data?.data;
      return data ? ({ data, version: res?.data?.metadata?.version } satisfies SecretEntry) : null;
    },

    async put(path, data, opts: PutOptions = {}) {
      const key = encodeSegments(parsePath(path));
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BackendError('put: data must be a plain object');
      const deadline = callDeadline();
      if ((settledKv ?? (await kv(deadline))) === 1) {
        if (opts.cas !== undefined) {
          throw new ConfigError(`vault: check-and-set needs a KV v2 mount; "${mountSegments.join('/')}" is KV v1`);
        }
        await call('POST', `${mount}/${key}`, { body: data, idempotent: true, subject: path, operation: 'write', deadline });
        return {};
      }
      const cas = opts.cas;
      const body = cas === undefined ? { data } : { data, options: { cas } };
      // A write without cas leaves the same state when repeated; a cas write may not, so after a
      // lost answer it is sent again only when a re-read shows it did not apply.
      const res = await call<KvV2Write>('POST', `${mount}/data/${key}`, {
        body,
        idempotent: cas === undefined,
        subject: path,
        operation: 'write',
        deadline,
        check: cas === undefined ? undefined : (deadline) => checkCasWrite(key, path, data, cas, deadline),
      });
      return { version: res?.data?.version };
    },

    async delete(path) {
      const key = encodeSegments(parsePath(path));
      const o = { idempotent: true, allowNotFound: true, subject: path, operation: 'delete', deadline: callDeadline() };
      if ((settledKv ?? (await kv(o.deadline))) === 1) await call('DELETE', `${mount}/${key}`, o);
      else await call('DELETE', `${mount}/metadata/${key}`, o);
    },

    async list(prefix) {
      const segments = parsePrefix(prefix);
      const folder = segments.length ? `${encodeSegments(segments)}/` : '';
      const deadline = callDeadline();
      const base = (settledKv ?? (await kv(deadline))) === 1 ? mount : `${mount}/metadata`;
      const res = await call<ListResponse>('LIST', `${base}/${folder}`, {
        idempotent: true,
        allowNotFound: true, // Vault answers 404 for a folder with no keys
        subject: prefix || '/',
        deadline,
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

/** `addresses`, else `address`, else VAULT_ADDR: trimmed, checked, duplicates refused. */
function vaultAddresses(options: VaultProviderOptions, env: NodeJS.ProcessEnv): string[] {
  if (options.addresses !== undefined && options.address !== undefined) {
    throw new ConfigError('vault: give either address (one server or a load balancer) or addresses (every node of a cluster), not both');
  }
  const list = options.addresses ?? [options.address ?? env.VAULT_ADDR ?? ''];
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError('vault: addresses must list at least one http(s) URL');
  const addresses = list.map((a) => String(a).replace(/\/+$/, ''));
  for (const address of addresses) {
    if (!/^https?:\/\/[^/]+/.test(address)) {
      throw new ConfigError(
        options.addresses ? 'vault: every entry of addresses must be an http(s) URL' : 'vault: address must be an http(s) URL (or set VAULT_ADDR)',
      );
    }
  }
  if (new Set(addresses.map((a) => a.toLowerCase())).size !== addresses.length) throw new ConfigError('vault: addresses lists a node twice');
  if (new Set(addresses.map((a) => a.split(':')[0])).size > 1) throw new ConfigError('vault: addresses must all use the same scheme (http or https)');
  return addresses;
}
