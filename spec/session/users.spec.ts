// Sessions of a user: userOf, the per-user index, sessionsOf / destroySessionsOf / destroyByKey, on
// memory, file, OpenBao KV v2 and OpenBao KV v1 (no check-and-set: the index key settles instead).
import type { SessionData } from 'express-session';
import { readdir } from 'node:fs/promises';
import { createFileProvider, createMemoryProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { sleep } from '../support/sleep';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sharedVault, uniquePrefix } from '../support/vault';

type UserData = SessionData & { user?: string };
const session = (user?: string): UserData => ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user }) as unknown as UserData;
const userOf = (s: SessionData) => (s as UserData).user;

type Opened = { provider: SecretProvider; done: () => Promise<void>; dir?: string };
type Open = () => Promise<Opened>;

const memory: Open = async () => ({ provider: createMemoryProvider(), done: async () => {} });
const file: Open = async () => {
  const dir = await tempDir('users-');
  return { provider: createFileProvider({ basePath: dir }), dir, done: () => removeTempDir(dir) };
};
/** OpenBao on `mount()` (read when the test runs: the KV v1 mount is made in a hook). */
const openbao =
  (kvVersion: 1 | 2, mount: () => string): Open =>
  async () => {
    const { address, token } = sharedVault();
    return { provider: createVaultProvider({ address, auth: { method: 'token', token }, mount: mount(), kvVersion }), done: async () => {} };
  };

/** The same cases on every backend; each test gets a fresh folder. */
function suite(open: Open): void {
  let provider: SecretProvider;
  let done: () => Promise<void>;
  let dir: string | undefined;
  let path: string;
  let store: SecretsSessionStore;
  beforeEach(async () => {
    ({ provider, done, dir } = await open());
    path = `${uniquePrefix('users')}/sessions`;
    store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: false, userOf });
  });
  afterEach(async () => {
    await store.close();
    await provider.close();
    await done();
  });

  it('lists and ends the sessions of one user only, except the one asked to keep', async () => {
    for (const sid of ['a1', 'a2', 'a3']) await store.set(sid, session('alice@example.com'));
    await store.set('b1', session('bob@example.com'));
    await store.set('anon', session());
    const listed = await store.sessionsOf('alice@example.com');
    expect(listed.map((s) => s.key).sort()).toEqual(['a1', 'a2', 'a3'].map((s) => store.keyOf(s)).sort());
    for (const s of listed) {
      expect(s.createdAt).toBeGreaterThan(Date.now() - 10_000);
      expect(s.lastSeenAt).toBeGreaterThanOrEqual(s.createdAt);
      expect(s.expiresAt).toBeGreaterThan(Date.now());
    }
    expect(await store.destroySessionsOf('alice@example.com', { except: 'a2' })).toBe(2);
    expect(await store.get('a1')).toBeNull();
    expect(await store.get('a3')).toBeNull();
    expect(await store.get('a2')).not.toBeNull();
    expect(await store.get('b1')).not.toBeNull();
    expect((await store.sessionsOf('alice@example.com')).map((s) => s.key)).toEqual([store.keyOf('a2')]);
    expect(await store.length()).toBe(3); // the index folder is never taken for sessions
  });

  it('a save of a session loaded before destroySessionsOf never brings it back', async () => {
    await store.set('s1', session('carol'));
    const loaded = (await store.get('s1')) as UserData;
    expect(await store.destroySessionsOf('carol')).toBe(1);
    await store.set('s1', loaded);
    await store.touch('s1', loaded);
    expect(await store.get('s1')).toBeNull();
    expect(await store.sessionsOf('carol')).toEqual([]);
  });

  it('follows a change of user, keeps createdAt across saves and touches', async () => {
    await store.set('s', session('dave'));
    const first = (await store.sessionsOf('dave'))[0];
    const loaded = (await store.get('s')) as UserData;
    loaded.user = 'erin';
    await store.set('s', loaded);
    expect(await store.sessionsOf('dave')).toEqual([]);
    const [moved] = await store.sessionsOf('erin');
    expect(moved.createdAt).toBe(first.createdAt);
    expect(await store.destroySessionsOf('dave')).toBe(0);
    expect(await store.destroySessionsOf('erin')).toBe(1);
  });

  it('destroyByKey ends one session and its index entry; isSessionKey is strict', async () => {
    await store.set('k', session('frank'));
    const key = store.keyOf('k');
    expect(store.isSessionKey(key)).toBe(true);
    for (const bad of [`${key}x`, key.slice(0, -1), `${path}/users/${key.slice(-43)}`, `../${key}`, `${key.slice(0, -1)}/`, 'k']) {
      expect(store.isSessionKey(bad)).toBe(false);
      expect(await store.destroyByKey(bad)).toBe(false);
    }
    expect(await store.destroyByKey(key)).toBe(true);
    expect(await store.destroyByKey(key)).toBe(false);
    expect(await store.get('k')).toBeNull();
    expect(await provider.list(`${path}/users`)).toEqual(['index-key']); // the entry went with it
  });

  it('keeps no plaintext user id or session id in any path; clear() clears the index', async () => {
    await store.set('plain-sid', session('grace@example.com'));
    const paths = JSON.stringify([await provider.list(path), await provider.list(`${path}/users`)]);
    expect(paths).not.toMatch(/grace|plain-sid/);
    if (dir) expect(JSON.stringify(await readdir(dir, { recursive: true }))).not.toMatch(/grace|plain-sid/);
    await store.clear();
    expect(await store.sessionsOf('grace@example.com')).toEqual([]);
    expect(await provider.list(`${path}/users`)).toEqual(['index-key']);
  });

  it('without userOf, sessionsOf and destroySessionsOf are a ConfigError', async () => {
    const plain = new SecretsSessionStore({ provider, path, cleanupIntervalMs: false });
    await expect(plain.sessionsOf('x')).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
    await expect(plain.destroySessionsOf('x')).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
  });
}

describe('sessions of a user on memory', () => suite(memory));
describe('sessions of a user on file', () => suite(file));

describeWith('openbao', 'sessions of a user on OpenBao', () => {
  let v1Mount = '';
  beforeAll(async () => {
    const { address, token } = sharedVault();
    v1Mount = uniquePrefix('kv1-users');
    await enableKvV1(address, token, v1Mount);
  });
  describe('KV v2', () => suite(openbao(2, () => 'secret')));
  describe('KV v1', () => {
    suite(openbao(1, () => v1Mount));

    const v1 = () => {
      const { address, token } = sharedVault();
      return createVaultProvider({ address, auth: { method: 'token', token }, mount: v1Mount, kvVersion: 1 });
    };

    test('stores racing to create the index key (no check-and-set) all settle on one key: each lists every session', async () => {
      const path = `${uniquePrefix('users-race')}/sessions`;
      const providers = Array.from({ length: 6 }, v1);
      const stores = providers.map((provider) => new SecretsSessionStore({ provider, path, cleanupIntervalMs: false, userOf }));
      try {
        // Every store's first set creates the key at the same moment.
        await Promise.all(stores.map((s, i) => s.set(`race-${i}`, session('zoe@example.com'))));
        const expected = stores.map((_, i) => stores[0].keyOf(`race-${i}`)).sort();
        for (const s of stores) expect((await s.sessionsOf('zoe@example.com')).map((x) => x.key).sort()).toEqual(expected);
        expect((await providers[0].list(`${path}/users`)).filter((n) => n.endsWith('/'))).toHaveLength(1); // one user name: one key
        expect(await stores[5].destroySessionsOf('zoe@example.com')).toBe(6);
        for (const s of stores) for (let i = 0; i < 6; i++) expect(await s.get(`race-${i}`)).toBeNull();
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await Promise.all(providers.map((p) => p.close()));
      }
    });

    test('a store that read a young index key just before a racer replaced it uses the replacement', async () => {
      const path = `${uniquePrefix('users-early')}/sessions`;
      const [raw, early, late] = [v1(), v1(), v1()];
      const keyPath = `${path}/users/index-key`;
      const first = { key: Buffer.alloc(32, 1).toString('base64url'), created_at: Date.now() };
      const second = { key: Buffer.alloc(32, 2).toString('base64url'), created_at: Date.now() };
      const earlyStore = new SecretsSessionStore({ provider: early, path, cleanupIntervalMs: false, userOf });
      const lateStore = new SecretsSessionStore({ provider: late, path, cleanupIntervalMs: false, userOf });
      try {
        await raw.put(keyPath, first);
        const listing = earlyStore.sessionsOf('yan'); // reads `first`, young: reads again after the settle delay
        await sleep(50);
        await raw.put(keyPath, second); // a racer that had read "absent" writes its own key
        expect(await listing).toEqual([]);
        await lateStore.set('late', session('yan'));
        expect((await earlyStore.sessionsOf('yan')).map((x) => x.key)).toEqual([lateStore.keyOf('late')]);
        expect(await earlyStore.destroySessionsOf('yan')).toBe(1);
        expect(await lateStore.get('late')).toBeNull();
      } finally {
        await Promise.all([earlyStore.close(), lateStore.close()]);
        await Promise.all([raw.close(), early.close(), late.close()]);
      }
    });
  });
});
