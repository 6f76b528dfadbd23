// Sessions of a user: userOf, the per-user index, sessionsOf / destroySessionsOf / destroyByKey, on memory and file.
import type { SessionData } from 'express-session';
import { readdir } from 'node:fs/promises';
import { createFileProvider, createMemoryProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { removeTempDir, tempDir } from '../support/temp-dir';

type UserData = SessionData & { user?: string };
const session = (user?: string): UserData => ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user }) as unknown as UserData;

const backends: [string, () => Promise<{ provider: SecretProvider; done: () => Promise<void>; dir?: string }>][] = [
  ['memory', async () => ({ provider: createMemoryProvider(), done: async () => {} })],
  [
    'file',
    async () => {
      const dir = await tempDir('users-');
      return { provider: createFileProvider({ basePath: dir }), dir, done: () => removeTempDir(dir) };
    },
  ],
];

describe.each(backends)('sessions of a user on %s', (_name, open) => {
  let provider: SecretProvider;
  let done: () => Promise<void>;
  let dir: string | undefined;
  let store: SecretsSessionStore;
  beforeEach(async () => {
    ({ provider, done, dir } = await open());
    store = new SecretsSessionStore({ provider, cleanupIntervalMs: false, userOf: (s) => (s as UserData).user });
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
    for (const bad of [`${key}x`, key.slice(0, -1), `sessions/users/${key.slice(-43)}`, `../${key}`, `${key.slice(0, -1)}/`, 'k']) {
      expect(store.isSessionKey(bad)).toBe(false);
      expect(await store.destroyByKey(bad)).toBe(false);
    }
    expect(await store.destroyByKey(key)).toBe(true);
    expect(await store.destroyByKey(key)).toBe(false);
    expect(await store.get('k')).toBeNull();
    expect(await provider.list('sessions/users')).toEqual(['index-key']); // the entry went with it
  });

  it('keeps no plaintext user id or session id in any path; clear() clears the index', async () => {
    await store.set('plain-sid', session('grace@example.com'));
    const paths = JSON.stringify([await provider.list('sessions'), await provider.list('sessions/users')]);
    expect(paths).not.toMatch(/grace|plain-sid/);
    if (dir) expect(JSON.stringify(await readdir(dir, { recursive: true }))).not.toMatch(/grace|plain-sid/);
    await store.clear();
    expect(await store.sessionsOf('grace@example.com')).toEqual([]);
    expect(await provider.list('sessions/users')).toEqual(['index-key']);
  });

  it('without userOf, sessionsOf and destroySessionsOf are a ConfigError', async () => {
    const plain = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    await expect(plain.sessionsOf('x')).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
    await expect(plain.destroySessionsOf('x')).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
  });
});
