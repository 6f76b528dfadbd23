// The session stores under test, built side by side: the peers users would pick instead, and
// SecretsSessionStore on each provider. All of them use their defaults except where noted.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RedisStore } from 'connect-redis';
import session, { type SessionData, type Store } from 'express-session';
import { createClient } from 'redis';
import { createFileProvider, createMemoryProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import type { BenchEnv } from './servers';

// Neither package ships types.
const memorystoreFactory = require('memorystore') as (s: typeof session) => new (o: object) => Store & { stopInterval(): void };
const fileStoreFactory = require('session-file-store') as (s: typeof session) => new (o: object) => Store;

export interface StoreDef {
  /** Short id for --stores= filters and JSON keys. */
  id: string;
  /** Name shown in tables. */
  label: string;
  peer: boolean;
  needsOpenBao?: boolean;
}

export const STORES: StoreDef[] = [
  { id: 'memstore', label: 'express-session MemoryStore', peer: true },
  { id: 'memorystore', label: 'memorystore', peer: true },
  { id: 'redis', label: 'connect-redis (Redis)', peer: true },
  { id: 'sfs', label: 'session-file-store', peer: true },
  { id: 'esa-memory', label: 'ours: memory', peer: false },
  { id: 'esa-file', label: 'ours: file', peer: false },
  { id: 'esa-file-enc', label: 'ours: file + encryption', peer: false },
  // Not in the list: the read-through cache on the file provider.
  { id: 'esa-file-cache', label: 'ours: file + cache', peer: false },
  { id: 'esa-kv1', label: 'ours: OpenBao KV v1', peer: false, needsOpenBao: true },
  { id: 'esa-kv2', label: 'ours: OpenBao KV v2', peer: false, needsOpenBao: true },
  { id: 'esa-kv2-cache', label: 'ours: OpenBao KV v2 + cache', peer: false, needsOpenBao: true },
  // Not in the list: the configuration the README recommends for OpenBao (lazy touch).
  { id: 'esa-kv2-lazy', label: 'ours: OpenBao KV v2 + cache + touchAfter 60', peer: false, needsOpenBao: true },
];

/** touchAfter (s) of the lazy-touch row. */
export const LAZY_TOUCH_AFTER_S = 60;

/** Cache settings of the cached OpenBao row (the README's example). */
export const CACHE = { ttlMs: 5_000, max: 10_000 };

export interface BenchStore {
  def: StoreDef;
  store: Store;
  close(): Promise<void>;
}

/** Stores picked by `--stores=a,b` (ids), or all; OpenBao ones only when a server is there. */
export function selectStores(filter: string | undefined, withOpenBao: boolean): StoreDef[] {
  const wanted = filter ? new Set(filter.split(',').map((s) => s.trim())) : null;
  return STORES.filter((d) => (!wanted || wanted.has(d.id)) && (withOpenBao || !d.needsOpenBao));
}

function vaultProvider(env: BenchEnv, kv: 1 | 2): SecretProvider {
  if (!env.bao) throw new Error('OpenBao is not running');
  return createVaultProvider({
    address: env.bao.address,
    auth: { method: 'token', token: env.bao.token },
    mount: kv === 1 ? env.bao.kv1Mount : env.bao.kv2Mount,
    kvVersion: kv,
  });
}

/** SecretsSessionStore with the sweeper off (a sweep mid-measurement would be noise). */
function ours(def: StoreDef, provider: SecretProvider, extra: { cache?: typeof CACHE; path?: string; touchAfter?: number } = {}): BenchStore {
  const store = new SecretsSessionStore({
    provider,
    cleanupIntervalMs: false,
    path: extra.path ?? 'bench-sessions',
    cache: extra.cache,
    touchAfter: extra.touchAfter,
  });
  return {
    def,
    store,
    close: async () => {
      await store.close();
      await provider.close();
    },
  };
}

/** Builds one store. `tag` keeps folders/prefixes apart when several processes run. */
export async function createStore(def: StoreDef, env: BenchEnv, tag = 'ops'): Promise<BenchStore> {
  const dir = join(env.tmpRoot, `${tag}-${def.id}`);
  switch (def.id) {
    case 'memstore':
      return { def, store: new session.MemoryStore(), close: async () => {} };
    case 'memorystore': {
      const MemoryStore = memorystoreFactory(session);
      const store = new MemoryStore({ checkPeriod: 86_400_000 });
      return { def, store, close: async () => store.stopInterval() };
    }
    case 'redis': {
      const client = createClient({ url: env.redisUrl });
      await client.connect();
      const store = new RedisStore({ client, prefix: `${env.redisPrefix}${tag}:` });
      return { def, store, close: () => client.close() };
    }
    case 'sfs': {
      mkdirSync(dir, { recursive: true });
      const FileStore = fileStoreFactory(session);
      // reapInterval -1: no background reaper (ours runs with its sweeper off too); no log spam.
      const store = new FileStore({ path: dir, reapInterval: -1, logFn: () => {} });
      return { def, store, close: async () => {} };
    }
    case 'esa-memory':
      return ours(def, createMemoryProvider());
    case 'esa-file':
      return ours(def, createFileProvider({ basePath: dir }));
    case 'esa-file-enc':
      return ours(def, createFileProvider({ basePath: dir, encryptionKey: randomBytes(32).toString('hex') }));
    case 'esa-file-cache':
      return ours(def, createFileProvider({ basePath: dir }), { cache: CACHE });
    case 'esa-kv1':
      return ours(def, vaultProvider(env, 1), { path: `bench-${tag}` });
    case 'esa-kv2':
      return ours(def, vaultProvider(env, 2), { path: `bench-${tag}` });
    case 'esa-kv2-cache':
      return ours(def, vaultProvider(env, 2), { path: `bench-${tag}-cached`, cache: CACHE });
    case 'esa-kv2-lazy':
      return ours(def, vaultProvider(env, 2), { path: `bench-${tag}-lazy`, cache: CACHE, touchAfter: LAZY_TOUCH_AFTER_S });
    default:
      throw new Error(`unknown store ${def.id}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Realistic sessions and promise wrappers over the callback API express-session uses
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** An express-session id: 24 random bytes, base64url (uid-safe's shape). */
export function newSid(): string {
  return randomBytes(24).toString('base64url');
}

/** A logged-in user's session as express-session hands it to a store (~400 bytes of JSON). */
export function makeSession(i: number, maxAgeMs = DAY_MS): SessionData {
  return {
    cookie: {
      originalMaxAge: maxAgeMs,
      maxAge: maxAgeMs,
      expires: new Date(Date.now() + maxAgeMs),
      secure: false,
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
    userId: `u-${100000 + i}`,
    email: `user${i}@example.com`,
    roles: ['reader', 'editor'],
    csrfSecret: randomBytes(18).toString('base64url'),
    loginAt: Date.now(),
    views: i % 50,
    prefs: { theme: 'dark', locale: 'en-GB', tz: 'Europe/London' },
    flash: [],
  } as unknown as SessionData;
}

function call<T>(fn: (cb: (err: unknown, value?: T) => void) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

export const ops = {
  get: (s: Store, sid: string) => call<SessionData | null>((cb) => s.get(sid, cb)),
  set: (s: Store, sid: string, sess: SessionData) => call<void>((cb) => s.set(sid, sess, cb)),
  touch: (s: Store, sid: string, sess: SessionData) => call<void>((cb) => s.touch!(sid, sess, (err?: unknown) => cb(err))),
  destroy: (s: Store, sid: string) => call<void>((cb) => s.destroy(sid, cb)),
  length: (s: Store) => call<number>((cb) => s.length!(cb)),
};
