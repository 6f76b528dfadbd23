// The one behaviour suite, run with identical assertions against connect-redis@9 (the reference)
// and SecretsSessionStore on several providers. The single deliberate difference — expiry to the
// millisecond vs rounded up to whole seconds — is driven by `expiryGranularityMs` and named so.
import { EventEmitter } from 'node:events';
import session, { type SessionData } from 'express-session';
import type { Backend, Cb, SuiteStore } from './backends';
import { sleep } from '../support/sleep';

/** A session like express-session's: a cookie that expires `expiresInMs` from now (null: browser session). */
export function sess(expiresInMs: number | null, extra: Record<string, unknown> = {}): SessionData {
  const expires = expiresInMs === null ? null : new Date(Date.now() + expiresInMs);
  return { cookie: { originalMaxAge: expiresInMs, expires, httpOnly: true, path: '/' }, ...extra } as unknown as SessionData;
}

/** What the store should give back: the session after a JSON round trip (Dates become ISO strings). */
export const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Calls `method` with a callback, resolving with every call the callback got (after a pause). */
export async function viaCallback(call: (cb: Cb) => unknown): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  await new Promise<void>((resolve) => {
    call((...args: unknown[]) => {
      calls.push(args);
      resolve();
    });
  });
  await sleep(20);
  return calls;
}

export function behaviourSuite(makeBackend: () => Backend | Promise<Backend>, opts: { bulk?: number } = {}): void {
  let backend: Backend;
  let ns: string;
  let store: SuiteStore;

  beforeAll(async () => {
    backend = await makeBackend();
  });
  afterAll(async () => {
    await backend?.teardown();
  });
  beforeEach(() => {
    ns = backend.namespace();
    store = backend.create(ns);
  });

  test('is an express-session Store (an EventEmitter) with connect-redis v9 defaults', () => {
    const bare = backend.bare({});
    expect(bare).toBeInstanceOf(session.Store);
    expect(bare).toBeInstanceOf(EventEmitter);
    expect(bare.prefix).toBe('sess:');
    expect(bare.ttl).toBe(86400);
    expect(bare.scanCount).toBe(100);
    expect(bare.serializer).toBe(JSON);
    expect(bare.disableTTL).toBe(false);
    expect(bare.disableTouch).toBe(false);
    expect(backend.bare({ prefix: '' }).prefix).toBe('');
    expect(backend.bare({ ttl: 0 }).ttl).toBe(86400);
    const fn = () => 5;
    expect(backend.bare({ ttl: fn }).ttl).toBe(fn);
  });

  test('get of an unknown sid is null, by promise and by callback', async () => {
    await expect(store.get('unknown-sid')).resolves.toBeNull();
    expect(await viaCallback((cb) => store.get('unknown-sid', cb))).toEqual([[null, null]]);
  });

  test('set then get gives the session back deep-equal (after JSON)', async () => {
    const s = sess(60_000, { user: { id: 7, roles: ['a', 'b'] }, n: 1.5, flag: true, nil: null });
    await store.set('sid-1', s);
    expect(await store.get('sid-1')).toEqual(roundTrip(s));
  });

  test('without cookie.expires the TTL is `ttl` (86400 s)', async () => {
    await store.set('sid-1', sess(null));
    const left = (await backend.remainingMs(store, 'sid-1')) as number;
    expect(left).toBeGreaterThanOrEqual(86_399_000);
    expect(left).toBeLessThanOrEqual(86_400_000);
  });

  test('with cookie.expires 60 s ahead the TTL is at most 60 s', async () => {
    await store.set('sid-1', sess(60_000));
    const left = (await backend.remainingMs(store, 'sid-1')) as number;
    expect(left).toBeLessThanOrEqual(60_000 + backend.expiryGranularityMs);
    expect(left).toBeGreaterThan(58_000);
  });

  test('a ttl function wins over the cookie', async () => {
    const s = backend.create(ns, { ttl: () => 30 });
    await s.set('sid-1', sess(3_600_000));
    const left = (await backend.remainingMs(s, 'sid-1')) as number;
    expect(left).toBeLessThanOrEqual(30_000);
    expect(left).toBeGreaterThan(28_000);
  });

  test('touch extends the expiry of an existing session', async () => {
    await store.set('sid-1', sess(60_000, { v: 1 }));
    await store.touch('sid-1', sess(600_000, { v: 1 }));
    expect(await backend.remainingMs(store, 'sid-1')).toBeGreaterThan(590_000);
    expect(await store.get('sid-1')).toMatchObject({ v: 1 });
  });

  test('touch of an unknown sid neither fails nor recreates it', async () => {
    await expect(store.touch('gone', sess(60_000))).resolves.toBeNull();
    expect(await store.get('gone')).toBeNull();
    expect(await backend.remainingMs(store, 'gone')).toBeNull();
  });

  test('disableTouch: touch changes nothing', async () => {
    const s = backend.create(ns, { disableTouch: true });
    await s.set('sid-1', sess(60_000));
    await s.touch('sid-1', sess(600_000));
    expect(await backend.remainingMs(s, 'sid-1')).toBeLessThanOrEqual(61_000);
  });

  test('disableTTL: stored without expiry, touch is a no-op, a past expiry still destroys', async () => {
    const s = backend.create(ns, { disableTTL: true });
    await s.set('sid-1', sess(60_000, { v: 1 }));
    expect(await backend.remainingMs(s, 'sid-1')).toBe(Number.POSITIVE_INFINITY);
    await s.touch('sid-1', sess(600_000));
    expect(await backend.remainingMs(s, 'sid-1')).toBe(Number.POSITIVE_INFINITY);
    await s.set('sid-1', sess(-1_000));
    expect(await s.get('sid-1')).toBeNull();
  });

  test('set with an expiry in the past destroys the session', async () => {
    await store.set('sid-1', sess(60_000));
    await store.set('sid-1', sess(-5_000));
    expect(await store.get('sid-1')).toBeNull();
    expect(await backend.remainingMs(store, 'sid-1')).toBeNull();
  });

  test('destroy removes the session; destroying an unknown sid is fine', async () => {
    await store.set('sid-1', sess(60_000));
    await expect(store.destroy('sid-1')).resolves.toBeNull();
    expect(await store.get('sid-1')).toBeNull();
    await expect(store.destroy('sid-1')).resolves.toBeNull();
    expect(await viaCallback((cb) => store.destroy('never-was', cb))).toEqual([[null, null]]);
  });

  test('length, ids and all (array, `id` on each, cookie.expires as an ISO string)', async () => {
    const a = sess(60_000, { name: 'a' });
    await store.set('sid-a', a);
    await store.set('sid-b', sess(60_000, { name: 'b' }));
    expect(await store.length()).toBe(2);
    expect(((await store.ids()) as string[]).sort()).toEqual(['sid-a', 'sid-b']);
    const all = (await store.all()) as Array<Record<string, unknown> & { cookie: { expires: unknown } }>;
    expect(Array.isArray(all)).toBe(true);
    const byId = Object.fromEntries(all.map((x) => [x.id, x]));
    expect(byId['sid-a']).toEqual({ ...roundTrip(a), id: 'sid-a' });
    expect(byId['sid-a'].cookie.expires).toBe((a.cookie.expires as Date).toISOString());
    expect(byId['sid-b']).toMatchObject({ id: 'sid-b', name: 'b' });
  });

  test("clear removes only this store's keys (other prefixes survive)", async () => {
    const other = backend.create(ns, { prefix: 'other:' });
    await store.set('sid-a', sess(60_000));
    await store.set('sid-b', sess(60_000));
    await other.set('sid-c', sess(60_000));
    await expect(store.clear()).resolves.toBeNull();
    expect(await store.length()).toBe(0);
    expect(await other.get('sid-c')).not.toBeNull();
    expect(await other.ids()).toEqual(['sid-c']);
  });

  test('empty store: length 0, ids [], all [], clear fine', async () => {
    expect(await store.length()).toBe(0);
    expect(await store.ids()).toEqual([]);
    expect(await store.all()).toEqual([]);
    await expect(store.clear()).resolves.toBeNull();
  });

  test(`${opts.bulk ?? 1000} sets give that length`, async () => {
    const n = opts.bulk ?? 1000;
    const ids = Array.from({ length: n }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < n; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => store.set(id, sess(60_000))));
    expect(await store.length()).toBe(n);
    await store.clear();
  }, 120_000);

  test('every method calls its callback exactly once, with (null, value)', async () => {
    expect(await viaCallback((cb) => store.set('sid-1', sess(60_000, { v: 1 }), cb))).toEqual([[null, null]]);
    const got = await viaCallback((cb) => store.get('sid-1', cb));
    expect(got).toHaveLength(1);
    expect(got[0][1]).toMatchObject({ v: 1 });
    expect(await viaCallback((cb) => store.touch('sid-1', sess(120_000, { v: 1 }), cb))).toEqual([[null, null]]);
    expect(await viaCallback((cb) => store.length(cb))).toEqual([[null, 1]]);
    expect(await viaCallback((cb) => store.ids(cb))).toEqual([[null, ['sid-1']]]);
    expect(await viaCallback((cb) => store.all(cb))).toHaveLength(1);
    expect(await viaCallback((cb) => store.destroy('sid-1', cb))).toEqual([[null, null]]);
    expect(await viaCallback((cb) => store.clear(cb))).toEqual([[null, null]]);
  });

  test('a parse error is an error, never "no session"', async () => {
    const broken = backend.create(ns, {
      serializer: {
        parse: () => {
          throw new SyntaxError('bad session text');
        },
        stringify: JSON.stringify,
      },
    });
    await broken.set('sid-1', sess(60_000));
    await expect(broken.get('sid-1')).rejects.toThrow('bad session text');
    const calls = await viaCallback((cb) => broken.get('sid-1', cb));
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBeInstanceOf(SyntaxError);
  });

  test('an async serializer.parse is awaited by get', async () => {
    const s = backend.create(ns, { serializer: { parse: async (t: string) => ({ ...JSON.parse(t), parsed: true }), stringify: JSON.stringify } });
    await s.set('sid-1', sess(60_000, { v: 2 }));
    expect(await s.get('sid-1')).toMatchObject({ v: 2, parsed: true });
  });

  test('a hostile sid is a miss for get and harmless for destroy (never a path escape)', async () => {
    for (const sid of ['../../etc/passwd', '..', 'a/b', '', '%2e%2e', 'x\0y', 'a\\b']) {
      await expect(store.get(sid)).resolves.toBeNull();
      await expect(store.destroy(sid)).resolves.toBeNull();
    }
  });

  test('load and createSession (express-session) work unchanged', async () => {
    await store.set('sid-1', sess(60_000, { v: 3 }));
    const loaded = await new Promise<unknown>((resolve, reject) => store.load('sid-1', (err: unknown, s?: unknown) => (err ? reject(err) : resolve(s))));
    expect(loaded).toMatchObject({ v: 3, id: 'sid-1' });
    expect((loaded as { cookie: { expires: unknown } }).cookie.expires).toBeInstanceOf(Date);
  });

  test(
    'never returns a session past its expiry — DELIBERATE DIFFERENCE: SecretsSessionStore expires to the ' +
      'millisecond, connect-redis rounds the TTL up to whole seconds',
    async () => {
      await store.set('sid-1', sess(300, { v: 1 }));
      expect(await store.get('sid-1')).toMatchObject({ v: 1 });
      await sleep(350);
      if (backend.expiryGranularityMs === 1) expect(await store.get('sid-1')).toBeNull();
      else expect(await store.get('sid-1')).toMatchObject({ v: 1 }); // still there until the whole second ends
      await sleep(1_100 - 350);
      expect(await store.get('sid-1')).toBeNull();
      expect(await store.length()).toBe(0);
    },
  );
}
