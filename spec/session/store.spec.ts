// SecretsSessionStore-only behaviour: where it goes beyond (or deliberately differs from)
// connect-redis, on the memory and file providers.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionData } from 'express-session';
import {
  BackendUnavailableError,
  ConfigError,
  createFileProvider,
  createMemoryProvider,
  InvalidSessionIdError,
  type SecretProvider,
  SecretsSessionStore,
} from '../../lib';
import { sidDigest } from '../../lib/session/key';
import { roundTrip, sess } from './behaviour';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { counting } from '../support/counting';
import { sleep } from '../support/sleep';

/** The shared counting provider, under the names these specs use: calls per method, put options, a hook after `get`. */
function spied(inner: SecretProvider) {
  const provider = counting(inner);
  return { provider, calls: provider.count, puts: provider.putOptions, hooks: provider };
}

const make = (provider: SecretProvider, opts: Partial<ConstructorParameters<typeof SecretsSessionStore>[0]> = {}) =>
  new SecretsSessionStore({ cleanupIntervalMs: 0, ...opts, provider });

describe('SecretsSessionStore: options', () => {
  test('rejects a missing provider, a prefix with "/", a bad path, bad touchAfter/cleanupIntervalMs', () => {
    const provider = createMemoryProvider();
    expect(() => new SecretsSessionStore({} as never)).toThrow(ConfigError);
    expect(() => make(provider, { prefix: 'app/sess:' })).toThrow(/prefix/);
    expect(() => make(provider, { path: '../up' })).toThrow(ConfigError);
    expect(() => make(provider, { path: '' })).toThrow(ConfigError);
    expect(() => make(provider, { touchAfter: -1 })).toThrow(/touchAfter/);
    expect(() => make(provider, { cleanupIntervalMs: -5 })).toThrow(/cleanupIntervalMs/);
  });

  test('defaults for the extra options: path "sessions", touchAfter 0, records at <path>/<prefix><base64url(sha256(sid))>', async () => {
    const provider = createMemoryProvider();
    const store = make(provider);
    expect(store.path).toBe('sessions');
    expect(store.touchAfter).toBe(0);
    await store.set('abc', sess(60_000, { v: 1 }));
    // SHA-256("abc") is the FIPS 180-2 test vector ba7816bf...f20015ad.
    const digest = Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url');
    expect(sidDigest('abc')).toBe(digest);
    expect(digest).toHaveLength(43);
    expect(store.keyOf('abc')).toBe(`sessions/sess:${digest}`);
    expect(await provider.list('sessions')).toEqual([`sess:${digest}`]);
    const entry = await provider.get(`sessions/sess:${digest}`);
    expect(entry?.data).toEqual({
      session: expect.any(String),
      expires_at: expect.any(Number),
      sid: 'abc',
      created_at: expect.any(Number),
      last_seen_at: expect.any(Number),
    });
    expect(JSON.parse(entry?.data.session as string)).toMatchObject({ v: 1 });
    expect(await store.ids()).toEqual(['abc']);
  });

  test('a prefix too long to leave room for the 43-character hash in one segment is refused', () => {
    const provider = createMemoryProvider();
    expect(() => make(provider, { prefix: 'p'.repeat(158) })).toThrow(/prefix is too long/);
    expect(make(provider, { prefix: 'p'.repeat(157) }).prefix).toHaveLength(157);
  });

  test('cookie.expires may be a Date, an ISO string or null', async () => {
    const store = make(createMemoryProvider());
    const at = Date.now() + 30_000;
    for (const expires of [new Date(at), new Date(at).toISOString()]) {
      await store.set('s', { cookie: { expires, originalMaxAge: 30_000 } } as unknown as SessionData);
      const rec = await store.provider.get(store.keyOf('s'));
      expect(rec?.data.expires_at).toBe(at);
    }
    await store.set('s', { cookie: { expires: null, originalMaxAge: null } } as unknown as SessionData);
    const rec = await store.provider.get(store.keyOf('s'));
    expect((rec?.data.expires_at as number) - Date.now()).toBeGreaterThan(86_399_000);
  });
});

describe('SecretsSessionStore: callbacks and errors', () => {
  test('a callback that throws is called exactly once; its error rejects the returned promise', async () => {
    const store = make(createMemoryProvider());
    await store.set('sid', sess(60_000));
    const methods: Array<[string, (cb: (err: unknown) => void) => Promise<unknown>]> = [
      ['get', (cb) => store.get('sid', cb)],
      ['set', (cb) => store.set('sid', sess(60_000), cb)],
      ['touch', (cb) => store.touch('sid', sess(90_000), cb)],
      ['all', (cb) => store.all(cb)],
      ['ids', (cb) => store.ids(cb)],
      ['length', (cb) => store.length(cb)],
      ['destroy', (cb) => store.destroy('sid', cb)],
      ['clear', (cb) => store.clear(cb)],
      ['close', (cb) => store.close(cb)],
    ];
    for (const [name, call] of methods) {
      let count = 0;
      const boom = new Error(`callback of ${name} threw`);
      await expect(
        call(() => {
          count++;
          throw boom;
        }),
      ).rejects.toBe(boom);
      await sleep(5);
      expect([name, count]).toEqual([name, 1]);
    }
  });

  test('a callback that throws after a store error is still called once', async () => {
    const { provider } = spied(createMemoryProvider());
    provider.get = async () => {
      throw new BackendUnavailableError('down');
    };
    const store = make(provider);
    let count = 0;
    await expect(
      store.get('sid', () => {
        count++;
        throw new Error('cb');
      }),
    ).rejects.toThrow('cb');
    expect(count).toBe(1);
  });

  test('backend errors are errors, never "no session" (promise and callback)', async () => {
    const { provider } = spied(createMemoryProvider());
    provider.get = async () => {
      throw new BackendUnavailableError('OpenBao is sealed');
    };
    const store = make(provider);
    await expect(store.get('sid')).rejects.toBeInstanceOf(BackendUnavailableError);
    const err = await new Promise((resolve) => store.get('sid', (e) => resolve(e)));
    expect(err).toBeInstanceOf(BackendUnavailableError);
  });

  test('a malformed record is an error naming the path, not a session and not a miss', async () => {
    const provider = createMemoryProvider();
    const store = make(provider);
    const key = store.keyOf('bad');
    await provider.put(key, { something: 'else' });
    await expect(store.get('bad')).rejects.toThrow(new RegExp(`"${key}" is not a session record`));
    await expect(store.all()).rejects.toThrow(/not a session record/);
  });

  test('a record whose sid is not the id its key is for is an error too (copied or edited), for get, touch and all', async () => {
    const provider = createMemoryProvider();
    const store = make(provider);
    await store.set('victim', sess(60_000, { user: 'ada' }));
    const { data } = (await provider.get(store.keyOf('victim'))) as { data: Record<string, unknown> };
    await provider.put(store.keyOf('attacker'), data); // claims sid "victim" under another id's key
    await expect(store.get('attacker')).rejects.toThrow(/not a session record/);
    await expect(store.touch('attacker', sess(600_000))).rejects.toThrow(/not a session record/);
    await expect(store.all()).rejects.toThrow(/not a session record/);
    await provider.put(store.keyOf('attacker'), { session: data.session, expires_at: data.expires_at }); // no sid at all
    await expect(store.get('attacker')).rejects.toThrow(/not a session record/);
  });

  test('records of the old layout (raw sid in the key, no sid inside) are unreachable: never a session, left out of ids, swept once expired, cleared', async () => {
    const provider = createMemoryProvider();
    const store = make(provider);
    const old = (expiresAt: number) => ({ session: JSON.stringify(sess(60_000, { user: 'old' })), expires_at: expiresAt });
    await provider.put('sessions/sess:old-live', old(Date.now() + 60_000));
    await provider.put('sessions/sess:old-expired', old(Date.now() - 1));
    await store.set('new', sess(60_000));
    expect(await store.get('old-live')).toBeNull();
    expect(await store.ids()).toEqual(['new']);
    expect(await store.length()).toBe(1);
    expect(await store.sweep()).toEqual({ scanned: 3, deleted: 1 });
    expect((await provider.list('sessions')).sort()).toEqual(['sess:old-live', `sess:${sidDigest('new')}`].sort());
    await store.clear();
    expect(await provider.list('sessions')).toEqual([]);
  });

  test('set with a hostile sid stores it under its digest inside the base folder; an empty sid fails with InvalidSessionIdError', async () => {
    const dir = await tempDir('esa-hostile-');
    try {
      const base = join(dir, 'base');
      const store = make(createFileProvider({ basePath: base, fsync: false }));
      const hostile = ['../../escape', '..', 'a/b', 'x\0y', 'a\\b', '%2e%2e', 'é'];
      for (const sid of hostile) await expect(store.touch(sid, sess(60_000))).resolves.toBeNull();
      await Promise.all(hostile.map((sid) => store.set(sid, sess(60_000))));
      await expect(store.set('', sess(60_000))).rejects.toBeInstanceOf(InvalidSessionIdError);
      expect(await readdir(dir)).toEqual(['base']);
      expect((await readdir(join(base, 'sessions'))).sort()).toEqual(hostile.map((sid) => `sess:${sidDigest(sid)}.json`).sort());
    } finally {
      await removeTempDir(dir);
    }
  });
});

describe('SecretsSessionStore: touch', () => {
  test('touchAfter: no write while the expiry moves forward by less than touchAfter; then one write', async () => {
    const { provider, calls } = spied(createMemoryProvider());
    const store = make(provider, { touchAfter: 60 });
    // A rolling cookie: the same maxAge, its expiry moving forward as requests come in.
    const rolled = (laterBy: number) => {
      const s = sess(3_600_000);
      s.cookie.expires = new Date((s.cookie.expires as Date).getTime() + laterBy);
      return s;
    };
    await store.set('sid', rolled(0));
    const puts = calls.put;
    await store.touch('sid', rolled(30_000)); // +30 s < 60 s
    expect(calls.put).toBe(puts);
    await store.touch('sid', rolled(61_000)); // +61 s
    expect(calls.put).toBe(puts + 1);
    await store.touch('sid', rolled(-600_000)); // shortening is always written
    expect(calls.put).toBe(puts + 2);
    await store.touch('sid', sess(3_600_000 + 10_000)); // a maxAge change is always written
    expect(calls.put).toBe(puts + 3);
  });

  test('touchAfter after a get of the record (decided from what the get parsed): same maxAge skips, a new maxAge writes, a parse counts', async () => {
    const { provider, calls } = spied(createMemoryProvider());
    await make(provider).set('sid', sess(3_600_000)); // another instance wrote it
    let parses = 0;
    const serializer = {
      parse: (text: string) => {
        parses++;
        return JSON.parse(text);
      },
      stringify: JSON.stringify,
    };
    const store = make(provider, { touchAfter: 60, serializer });
    const loaded = (await store.get('sid')) as SessionData;
    expect(parses).toBe(1);
    const puts = calls.put;
    const later = { ...loaded, cookie: { ...loaded.cookie, expires: new Date(Date.now() + 3_600_000 + 30_000) } } as SessionData;
    await store.touch('sid', later); // +30 s with the stored maxAge: nothing to write, and no second parse
    expect([calls.put, parses]).toEqual([puts, 1]);
    const longer = { ...later, cookie: { ...later.cookie, originalMaxAge: 7_200_000 } } as SessionData;
    await store.touch('sid', longer); // the maxAge changed: written, from the stored data
    expect(calls.put).toBe(puts + 1);
    expect(((await make(provider).get('sid')) as SessionData).cookie.originalMaxAge).toBe(7_200_000);
  });

  test('touch stores the new cookie (a maxAge change sticks) and keeps the stored data', async () => {
    const store = make(createMemoryProvider());
    await store.set('sid', sess(60_000, { v: 'stored' }));
    const touched = sess(600_000, { v: 'stale copy from a slow request' });
    await store.touch('sid', touched);
    const got = (await store.get('sid')) as unknown as { v: string; cookie: unknown };
    expect(got.v).toBe('stored');
    expect(got.cookie).toEqual(roundTrip(touched.cookie));
  });

  test('touch racing a destroy does not recreate the session (check-and-set)', async () => {
    const { provider, hooks, puts } = spied(createMemoryProvider());
    await make(provider).set('sid', sess(60_000)); // written by another instance: this one must read it
    const store = make(provider);
    hooks.afterGet = async () => {
      hooks.afterGet = undefined;
      await store.destroy('sid'); // logout lands between touch's read and its write
    };
    await expect(store.touch('sid', sess(600_000))).resolves.toBeNull();
    expect(puts.at(-1)).toEqual({ maxVersions: 1, cas: 1 });
    expect(await store.get('sid')).toBeNull();
  });

  test('a touch after a get or set in this process needs no read, and a change elsewhere still wins', async () => {
    const { provider, calls, puts } = spied(createMemoryProvider());
    const store = make(provider);
    const other = make(provider); // another app instance on the same backend
    await store.set('sid', sess(60_000, { v: 'stored' }));
    const reads = calls.get;
    await store.touch('sid', sess(600_000, { v: 'stale copy from a slow request' }));
    expect(calls.get).toBe(reads); // no read: the record and version written by set were remembered
    expect(puts.at(-1)).toEqual({ maxVersions: 1, cas: 1 });
    expect(await store.get('sid')).toMatchObject({ v: 'stored', cookie: { originalMaxAge: 600_000 } });

    await other.set('sid', sess(60_000, { v: 'changed by the other instance' })); // version 3
    await store.touch('sid', sess(600_000)); // remembers version 2: conflict, nothing written
    expect(await other.get('sid')).toMatchObject({ v: 'changed by the other instance', cookie: { originalMaxAge: 60_000 } });

    await store.get('sid'); // a new request loads it again...
    await other.destroy('sid'); // ...and the user logs out on the other instance
    await store.touch('sid', sess(600_000));
    expect(await other.get('sid')).toBeNull();
  });

  test('a slow request saving after a logout does not bring the session back (same process)', async () => {
    const { provider, puts } = spied(createMemoryProvider());
    const store = make(provider);
    await store.set('sid', sess(60_000, { user: 'ada' }));
    await store.get('sid'); // a slow request loads the session...
    const writes = puts.length;
    await store.destroy('sid'); // ...the user logs out in another request...
    await store.set('sid', sess(60_000, { user: 'ada', note: 'the slow request saves' })); // ...and it finishes
    expect(puts.length).toBe(writes);
    expect(await store.get('sid')).toBeNull();
    // an id loaded again after the destroy (a new request) may be written as usual
    await store.set('sid', sess(60_000, { user: 'ada', note: 'a later request' }));
    expect(await store.get('sid')).toMatchObject({ note: 'a later request' });
    await store.set('other', sess(60_000, { user: 'bob' }));
    expect(await store.get('other')).not.toBeNull();
  });

  test('touch of an expired session neither extends nor recreates it', async () => {
    const store = make(createMemoryProvider());
    await store.set('sid', sess(30));
    await sleep(40);
    await store.touch('sid', sess(600_000));
    expect(await store.get('sid')).toBeNull();
  });

  test('every session write asks for one version only (maxVersions: 1)', async () => {
    const { provider, puts } = spied(createMemoryProvider());
    const store = make(provider);
    await store.set('sid', sess(60_000));
    await store.touch('sid', sess(90_000));
    expect(puts.map((p) => p.maxVersions)).toEqual([1, 1]);
  });
});

describe('SecretsSessionStore: all, cache, close', () => {
  test('all() awaits an async serializer.parse (connect-redis v9 does not — deliberate difference)', async () => {
    const store = make(createMemoryProvider(), {
      serializer: { parse: async (t: string) => ({ ...JSON.parse(t), parsed: true }), stringify: JSON.stringify },
    });
    await store.set('a', sess(60_000, { v: 1 }));
    expect(await store.all()).toEqual([expect.objectContaining({ id: 'a', v: 1, parsed: true })]);
  });

  test('expired, not yet swept sessions are left out of all/ids/length', async () => {
    const store = make(createMemoryProvider());
    await store.set('live', sess(60_000));
    await store.set('dying', sess(20));
    await sleep(30);
    expect(await store.ids()).toEqual(['live']);
    expect(await store.length()).toBe(1);
    expect((await store.all()).map((s) => s.id)).toEqual(['live']);
  });

  test('cache: { ttlMs, max } serves repeated gets from memory; set and destroy go through at once', async () => {
    const { provider, calls } = spied(createMemoryProvider());
    const store = make(provider, { cache: { ttlMs: 60_000, max: 100 } });
    await store.set('sid', sess(60_000, { v: 1 }));
    const before = calls.get;
    for (let i = 0; i < 5; i++) expect(await store.get('sid')).toMatchObject({ v: 1 });
    expect(calls.get).toBe(before);
    await store.destroy('sid');
    expect(await store.get('sid')).toBeNull();
  });

  test('close() stops the store but never closes the provider (it is yours)', async () => {
    const { provider, calls } = spied(createMemoryProvider());
    const store = make(provider, { cleanupIntervalMs: 60_000 });
    await expect(store.close()).resolves.toBeNull();
    expect(calls.close).toBe(0);
  });
});
