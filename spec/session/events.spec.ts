// connect-mongo's store events: `create`/`update` then `set` on set, `touch` when a touch writes,
// `destroy`; on every provider, and through express-session.
import type { SessionData } from 'express-session';
import request from 'supertest';
import { createVaultProvider, SecretsSessionStore } from '../../lib';
import { enableKvV1 } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { describeWith } from '../support/components';
import { expressVersions, sessionApp } from './app';
import { type Backend, fileBackend, memoryBackend, openbaoBackend } from './backends';

const sess = (ms: number, extra: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) }, ...extra }) as unknown as SessionData;

const EVENTS = ['create', 'update', 'set', 'touch', 'destroy'] as const;

function record(store: SecretsSessionStore): Array<[string, ...unknown[]]> {
  const seen: Array<[string, ...unknown[]]> = [];
  for (const event of EVENTS) store.on(event, (...args: unknown[]) => seen.push([event, ...args]));
  return seen;
}

function eventSuite(make: () => Backend | Promise<Backend>): void {
  let backend: Backend;
  beforeAll(async () => {
    backend = await make();
  });
  afterAll(() => backend.teardown());

  test('set (new, then existing), touch, destroy emit create+set, update+set, touch, destroy with the sid', async () => {
    const store = backend.create(backend.namespace()) as unknown as SecretsSessionStore;
    const seen = record(store);
    await store.set('sid-1', sess(60_000, { v: 1 }));
    await store.set('sid-1', sess(60_000, { v: 2 }));
    const touched = sess(120_000);
    await store.touch('sid-1', touched);
    await store.destroy('sid-1');
    expect(seen).toEqual([
      ['create', 'sid-1'],
      ['set', 'sid-1'],
      ['update', 'sid-1'],
      ['set', 'sid-1'],
      ['touch', 'sid-1', touched],
      ['destroy', 'sid-1'],
    ]);
    // after a destroy the next set is a create again
    seen.length = 0;
    await store.set('sid-1', sess(60_000));
    expect(seen).toEqual([
      ['create', 'sid-1'],
      ['set', 'sid-1'],
    ]);
  });

  test('no event for a failed set, a touch that writes nothing (touchAfter or an unknown session)', async () => {
    const store = backend.create(backend.namespace(), {}) as unknown as SecretsSessionStore;
    const lazy = new SecretsSessionStore({ provider: store.provider, path: store.path, touchAfter: 3600, cleanupIntervalMs: 0 });
    try {
      const seen = record(lazy);
      await lazy.set('sid-2', sess(60_000));
      seen.length = 0;
      await lazy.touch('sid-2', sess(60_000)); // the expiry moves by far less than touchAfter
      await lazy.touch('unknown', sess(60_000));
      await lazy.set('', sess(60_000)).catch(() => undefined);
      expect(seen).toEqual([]);
    } finally {
      await lazy.close();
    }
  });
}

describe('store events on the memory provider', () => eventSuite(memoryBackend));
describe('store events on the file provider', () => eventSuite(fileBackend));
describeWith('openbao', 'store events on OpenBao KV v2', () => eventSuite(openbaoBackend));

describe.each(expressVersions)('store events through express-session (%s)', (_name, express) => {
  test('a login creates, a change updates, a rolling request touches, a logout destroys', async () => {
    const backend = memoryBackend();
    try {
      const store = backend.create(backend.namespace()) as unknown as SecretsSessionStore;
      const seen = record(store);
      const app = sessionApp(express, store);
      const login = await request(app).post('/login');
      const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      await request(app).post('/count').set('Cookie', cookie);
      await request(app).get('/me').set('Cookie', cookie);
      await request(app).post('/logout').set('Cookie', cookie);
      const sid = login.body.sid as string;
      expect(seen.map(([event, id]) => [event, id])).toEqual([
        ['create', sid],
        ['set', sid],
        ['update', sid],
        ['set', sid],
        ['touch', sid],
        ['destroy', sid],
      ]);
    } finally {
      await backend.teardown();
    }
  });
});

describeWith('openbao', 'store events on OpenBao KV v1 (no versions)', () => {
  test('set emits only `set` (create and update cannot be told apart); touch and destroy as elsewhere', async () => {
    const { address, token } = sharedVault();
    const mount = uniquePrefix('kv1-events');
    await enableKvV1(address, token, mount);
    const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion: 1 });
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: 0 });
    try {
      const seen = record(store);
      await store.set('sid-1', sess(60_000));
      await store.set('sid-1', sess(60_000, { v: 2 }));
      await store.touch('sid-1', sess(600_000));
      await store.destroy('sid-1');
      expect(seen.map(([event]) => event)).toEqual(['set', 'set', 'touch', 'destroy']);
    } finally {
      await store.close();
      await provider.close();
    }
  });
});
