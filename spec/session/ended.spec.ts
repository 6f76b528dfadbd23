// A logout (destroy) is never undone by another instance's write: a save of a session loaded
// before the logout, a touch, or a stale write that lands after it. On backends with versions
// (memory, file, OpenBao KV v2) by check-and-set; on KV v1 by the ended mark (lib/session/ended.ts).
import express from 'express';
import session, { type SessionData } from 'express-session';
import request from 'supertest';
import { createFileProvider, createMemoryProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

const sess = (ms: number, extra: Record<string, unknown> = {}): SessionData =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) }, ...extra }) as unknown as SessionData;

interface Backend {
  name: string;
  open(): Promise<{ provider: SecretProvider; close(): Promise<void> }>;
}

const backends: Backend[] = [
  { name: 'memory', open: async () => ({ provider: createMemoryProvider(), close: async () => {} }) },
  {
    name: 'file',
    open: async () => {
      const dir = await tempDir('esa-ended-');
      const provider = createFileProvider({ basePath: dir, fsync: false });
      return { provider, close: () => provider.close().then(() => removeTempDir(dir)) };
    },
  },
];

function suite(backend: () => Backend): void {
  let provider: SecretProvider;
  let close: () => Promise<void>;
  let path: string;
  /** Two instances (as in two processes) on one backend. */
  const pair = () => [0, 1].map(() => new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 })) as [SecretsSessionStore, SecretsSessionStore];

  beforeEach(async () => {
    ({ provider, close } = await backend().open());
    path = uniquePrefix('ended');
  });
  afterEach(() => close());

  test('a save of a session loaded before the logout does not bring it back (and succeeds for express-session)', async () => {
    const [p1, p2] = pair();
    await p1.set('sid', sess(60_000, { user: 'ann' }));
    const loaded = (await p2.get('sid')) as SessionData;
    await p1.destroy('sid');
    await expect(p2.set('sid', loaded)).resolves.toBeNull();
    expect(await p1.get('sid')).toBeNull();
    expect(await p2.get('sid')).toBeNull();
    expect(await provider.get(p1.keyOf('sid'))).toBeNull();
  });

  test('a touch after the logout does not bring it back', async () => {
    const [p1, p2] = pair();
    await p1.set('sid', sess(60_000));
    const loaded = (await p2.get('sid')) as SessionData;
    await p1.destroy('sid');
    await expect(p2.touch('sid', loaded)).resolves.toBeNull();
    expect(await provider.get(p1.keyOf('sid'))).toBeNull();
  });

  test('a save over a session another instance changed (not ended) still wins, as in connect-redis', async () => {
    const [p1, p2] = pair();
    await p1.set('sid', sess(60_000, { n: 1 }));
    const loaded = (await p2.get('sid')) as SessionData & { n: number };
    await p1.set('sid', sess(60_000, { n: 2 }));
    loaded.n = 3;
    await p2.set('sid', loaded);
    expect(await p1.get('sid')).toMatchObject({ n: 3 });
    // and the same session object saved twice in one request checks against its own last write
    loaded.n = 4;
    await p2.set('sid', loaded);
    expect(await p1.get('sid')).toMatchObject({ n: 4 });
  });

  test('through express-session: a request that loaded the session before a logout on another instance ends without reviving it', async () => {
    const [p1, p2] = pair();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const app = (store: SecretsSessionStore) => {
      const a = express();
      a.use(session({ store, secret: 'ended-spec-secret', resave: true, saveUninitialized: false }));
      a.post('/login', (req, res) => {
        (req.session as unknown as { user: string }).user = 'ann';
        res.json({ ok: true });
      });
      a.post('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.json({ ok: true }))));
      a.get('/slow', async (req, res) => {
        await gate; // the logout happens on the other instance meanwhile
        (req.session as unknown as { seen: boolean }).seen = true;
        res.json({ user: (req.session as unknown as { user?: string }).user ?? null });
      });
      a.get('/me', (req, res) => res.json({ user: (req.session as unknown as { user?: string }).user ?? null }));
      return a;
    };
    const a1 = app(p1);
    const a2 = app(p2);
    const login = await request(a1).post('/login').expect(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    const slow = request(a2)
      .get('/slow')
      .set('Cookie', cookie)
      .then((r) => r);
    await sleep(100); // /slow has loaded the session
    await request(a1).post('/logout').set('Cookie', cookie).expect(200);
    release();
    expect((await slow).status).toBe(200);
    for (const a of [a1, a2]) expect((await request(a).get('/me').set('Cookie', cookie).expect(200)).body.user).toBeNull();
  });
}

for (const b of backends) describe(`ended sessions stay ended: ${b.name}`, () => suite(() => b));

describeWith('openbao', 'ended sessions stay ended: OpenBao KV v2 and KV v1', () => {
  const vaultBackend = (kvVersion: 1 | 2, mount: () => string): Backend => ({
    name: `KV v${kvVersion}`,
    open: async () => {
      const { address, token } = sharedVault();
      const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: mount(), kvVersion });
      return { provider, close: () => provider.close() };
    },
  });
  let v1Mount = '';
  beforeAll(async () => {
    const { address, token } = sharedVault();
    v1Mount = uniquePrefix('kv1-ended');
    await enableKvV1(address, token, v1Mount);
  });
  describe('KV v2', () => suite(() => vaultBackend(2, () => 'secret')));
  describe('KV v1', () => {
    suite(() => vaultBackend(1, () => v1Mount));

    test('KV v1: a stale write that lands after the logout is deleted again by its writer, and no get returns it meanwhile', async () => {
      const { address, token } = sharedVault();
      const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: v1Mount, kvVersion: 1 });
      const path = uniquePrefix('ended-raw');
      const store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 });
      await store.set('sid', sess(60_000, { user: 'ann' }));
      const key = store.keyOf('sid');
      const record = await provider.get(key);
      await store.destroy('sid');
      // What a save racing the logout leaves for one round trip: the record is back, the mark is there.
      await provider.put(key, record?.data ?? {});
      expect(await store.get('sid')).toBeNull();
      expect(await new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 }).get('sid')).toBeNull();
      // a writer that saw the session before the logout: its write is taken back at once
      await store.set('sid', sess(60_000, { user: 'ann' }));
      expect(await provider.get(key)).toBeNull();
      // a record left by a writer killed before its check: get refuses it, the sweeper deletes it
      await provider.put(key, record?.data ?? {});
      expect(await store.get('sid')).toBeNull();
      expect((await store.sweep()).deleted).toBe(1);
      expect(await provider.get(key)).toBeNull();
      await provider.close();
    });
  });
});
