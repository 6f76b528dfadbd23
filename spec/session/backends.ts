// Store backends for the shared session specs: connect-redis@9 on the local Redis (the reference)
// and SecretsSessionStore on OpenBao KV v2, the file provider and the memory provider.
import { randomBytes } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import type { SessionData, Store } from 'express-session';
import { createClient } from 'redis';
import {
  createFileProvider,
  createMemoryProvider,
  createVaultProvider,
  type SecretProvider,
  SecretsSessionStore,
  type SecretsSessionStoreOptions,
  type SessionSerializer,
  type VaultProvider,
} from '../../lib';
import { REDIS_URL } from '../support/components';
import { sharedVault, uniquePrefix } from '../support/vault';
import { removeTempDir, tempDir } from '../support/temp-dir';

export type Cb = (err: unknown, value?: unknown) => unknown;

/** What the shared suite needs from a store: connect-redis's surface, promise and callback forms. */
export interface SuiteStore extends Pick<Store, 'regenerate' | 'load' | 'createSession' | 'on' | 'emit'> {
  prefix: string;
  scanCount: number;
  serializer: unknown;
  ttl: unknown;
  disableTTL: boolean;
  disableTouch: boolean;
  get(sid: string, cb?: Cb): Promise<unknown>;
  set(sid: string, session: SessionData, cb?: Cb): Promise<unknown>;
  touch(sid: string, session: SessionData, cb?: Cb): Promise<unknown>;
  destroy(sid: string, cb?: Cb): Promise<unknown>;
  all(cb?: Cb): Promise<unknown>;
  ids(cb?: Cb): Promise<unknown>;
  length(cb?: Cb): Promise<unknown>;
  clear(cb?: Cb): Promise<unknown>;
}

/** Options both stores share (connect-redis's); `prefix` is relative to the test's namespace. */
export interface CommonOptions {
  prefix?: string;
  ttl?: number | ((sess: SessionData) => number);
  disableTTL?: boolean;
  disableTouch?: boolean;
  serializer?: SessionSerializer;
}

export interface Backend {
  readonly name: string;
  /** 1000 for connect-redis (expiry rounded up to whole seconds), 1 for SecretsSessionStore. */
  readonly expiryGranularityMs: number;
  /** A fresh, isolated namespace (Redis key prefix / provider folder). */
  namespace(): string;
  /** A store in `ns`; `opts.prefix` defaults to "sess:" inside the namespace. */
  create(ns: string, opts?: CommonOptions): SuiteStore;
  /** A store built with exactly these options (for checking defaults; never written to). */
  bare(opts: CommonOptions): SuiteStore;
  /** ms left before the stored session expires; null when absent, Infinity when it never expires. */
  remainingMs(store: SuiteStore, sid: string): Promise<number | null>;
  teardown(): Promise<void>;
}

export function redisBackend(): Backend {
  const client = createClient({ url: REDIS_URL });
  const ready = client.connect();
  const root = `esa-test:${randomBytes(6).toString('hex')}:`;
  return {
    name: 'connect-redis@9 on Redis (reference)',
    expiryGranularityMs: 1000,
    namespace: () => `${root}${randomBytes(4).toString('hex')}:`,
    create(ns, opts = {}) {
      const store = new RedisStore({ ...opts, client, prefix: ns + (opts.prefix ?? 'sess:') });
      return store as unknown as SuiteStore;
    },
    bare: (opts) => new RedisStore({ ...opts, client }) as unknown as SuiteStore,
    async remainingMs(store, sid) {
      await ready;
      const ms = await client.pTTL(store.prefix + sid);
      if (ms === -2) return null;
      return ms === -1 ? Number.POSITIVE_INFINITY : ms;
    },
    async teardown() {
      await ready;
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) keys.push(...batch);
      if (keys.length) await client.del(keys);
      await client.quit();
    },
  };
}

/** SecretsSessionStore over `provider`; namespaces are folders. */
export function providerBackend<P extends SecretProvider>(
  name: string,
  provider: P,
  extra: Partial<SecretsSessionStoreOptions> = {},
  onTeardown: () => Promise<void> = async () => {},
): Backend & { provider: P } {
  const stores: SecretsSessionStore[] = [];
  const track = (store: SecretsSessionStore): SuiteStore => {
    stores.push(store);
    return store as unknown as SuiteStore;
  };
  return {
    name,
    provider,
    expiryGranularityMs: 1,
    namespace: () => `${uniquePrefix('sessions')}/s`,
    create: (ns, opts = {}) => track(new SecretsSessionStore({ cleanupIntervalMs: 0, ...extra, ...opts, provider, path: ns })),
    bare: (opts) => track(new SecretsSessionStore({ ...opts, provider })),
    async remainingMs(store, sid) {
      const s = store as unknown as SecretsSessionStore;
      const entry = await provider.get(s.keyOf(sid));
      if (!entry) return null;
      const at = entry.data.expires_at;
      return at === null ? Number.POSITIVE_INFINITY : (at as number) - Date.now();
    },
    async teardown() {
      await Promise.all(stores.map((s) => s.close()));
      await provider.close();
      await onTeardown();
    },
  };
}

export function memoryBackend(): Backend & { provider: SecretProvider } {
  return providerBackend('SecretsSessionStore on the memory provider', createMemoryProvider());
}

export async function fileBackend(): Promise<Backend & { provider: SecretProvider; dir: string }> {
  const dir = await tempDir('esa-sessions-');
  const provider = createFileProvider({ basePath: dir, fsync: false });
  const backend = providerBackend('SecretsSessionStore on the file provider', provider, {}, () => removeTempDir(dir));
  return { ...backend, dir };
}

export function openbaoProvider(opts: { timeoutMs?: number } = {}): VaultProvider {
  const { address, token } = sharedVault();
  return createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2, ...opts });
}

export function openbaoBackend(): Backend & { provider: VaultProvider } {
  const provider = openbaoProvider();
  return providerBackend('SecretsSessionStore on OpenBao KV v2', provider);
}
