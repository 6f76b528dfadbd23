// `ConfiguredAuth.close()`: closes everything once, last-created first, however often it is called.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { type ConfiguredAuth, createAuthFromConfig, createFileProvider } from '../lib';

describe('createAuthFromConfig(...).close()', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esa-setup-close-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const boot = () =>
    createAuthFromConfig({
      secrets: { providers: { file: { base_path: join(dir, 'secrets') }, memory: { enabled: true } } },
      authentication: {
        session: { storage: { secrets: { provider: 'file', path: 'app/sessions' } } },
        methods: { token: { enabled: true, storage: { secrets: { provider: 'file', path: 'app/tokens', bcrypt_cost: 4 } } } },
      },
    });

  /** Spies on every closer reachable from outside, in the order they must run. */
  function spyClosers(auth: ConfiguredAuth) {
    const router = auth.adminRouter({ ui: false });
    return {
      router: jest.spyOn(router, 'close'),
      tokens: jest.spyOn(auth.tokens, 'close'),
      sessionStore: jest.spyOn(auth.sessionStore, 'close'),
      file: jest.spyOn(auth.providers.file, 'close'),
      memory: jest.spyOn(auth.providers.memory, 'close'),
    };
  }

  const order = (spies: Record<string, jest.SpyInstance>) =>
    Object.entries(spies)
      .flatMap(([name, spy]) => spy.mock.invocationCallOrder.map((at) => [at, name] as const))
      .sort((a, b) => a[0] - b[0])
      .map(([, name]) => name);

  test('a second call returns the same promise and closes nothing again, in the same order', async () => {
    const auth = await boot();
    const spies = spyClosers(auth);
    const first = auth.close();
    const again = auth.close();
    expect(again).toBe(first);
    await first;
    const third = auth.close();
    expect(third).toBe(first);
    await third;
    expect(order(spies)).toEqual(['router', 'tokens', 'sessionStore', 'file', 'memory']);
  });

  test('a closer that fails does not stop the others; close() rejects with its error, every time', async () => {
    const auth = await boot();
    const spies = spyClosers(auth);
    const boom = new Error('token store close failed');
    spies.tokens.mockImplementation(async () => {
      throw boom;
    });
    await expect(auth.close()).rejects.toBe(boom);
    await expect(auth.close()).rejects.toBe(boom);
    expect(order(spies)).toEqual(['router', 'tokens', 'sessionStore', 'file', 'memory']);
    spies.tokens.mockRestore();
    await auth.tokens.close();
  });

  test('a leak report being checked when close() is called is finished (the token revoked) before the stores close', async () => {
    const auth = await boot();
    const app = express().use('/auth', auth.adminRouter({ ui: false, leakedTokenEndpoint: true, logger: { info() {}, warn() {} } }));
    const { token, record } = await auth.tokens.create({ name: 'leaked' });
    const res = await request(app)
      .post('/auth/tokens/leaked')
      .set('Content-Type', 'application/json')
      .send({ tokens: [token] });
    expect(res.status).toBe(202);
    await auth.close();
    const reader = createFileProvider({ basePath: join(dir, 'secrets') });
    expect(await reader.get(`app/tokens/${record.id}`)).toBeNull();
    await reader.close();
  });
});
