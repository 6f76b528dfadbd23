import { cached, createMemoryProvider, type SecretProvider } from '../../lib';
import { counting } from '../support/counting';
import { sleep } from '../support/sleep';

describe('cached(provider)', () => {
  test('reads through once, then serves from memory', async () => {
    const backend = counting(createMemoryProvider());
    await backend.put('a', { v: 1 });
    const cache = cached(backend, { ttlMs: 10_000 });
    expect((await cache.get('a'))?.data).toEqual({ v: 1 });
    expect((await cache.get('a'))?.data).toEqual({ v: 1 });
    expect(backend.count.get).toBe(1);
  });

  test('writes through: a put is readable at once without a backend read', async () => {
    const backend = counting(createMemoryProvider());
    const cache = cached(backend);
    await cache.put('a', { v: 2 });
    expect(await cache.get('a')).toEqual({ data: { v: 2 }, version: 1 });
    expect(backend.count.get).toBe(0);
    expect((await backend.get('a'))?.data).toEqual({ v: 2 });
  });

  test('a delete is seen at once; misses are not cached', async () => {
    const backend = counting(createMemoryProvider());
    const cache = cached(backend);
    await cache.put('a', { v: 1 });
    await cache.delete('a');
    expect(await cache.get('a')).toBeNull();
    await backend.put('a', { v: 'created elsewhere' });
    expect((await cache.get('a'))?.data).toEqual({ v: 'created elsewhere' });
  });

  test('a change made elsewhere is seen after at most ttl', async () => {
    const backend = counting(createMemoryProvider());
    await backend.put('a', { v: 'old' });
    const cache = cached(backend, { ttlMs: 150 });
    expect((await cache.get('a'))?.data).toEqual({ v: 'old' });
    await backend.put('a', { v: 'new' });
    expect((await cache.get('a'))?.data).toEqual({ v: 'old' });
    await sleep(200);
    expect((await cache.get('a'))?.data).toEqual({ v: 'new' });
  });

  test('concurrent reads of one path share one backend call', async () => {
    const backend = counting(createMemoryProvider());
    await backend.put('a', { v: 1 });
    const cache = cached(backend);
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.get('a')));
    expect(results.every((r) => r?.data.v === 1)).toBe(true);
    expect(backend.count.get).toBe(1);
  });

  test('a read racing a write never leaves the old value cached', async () => {
    const backend = counting(createMemoryProvider());
    await backend.put('a', { v: 'old' });
    const cache = cached(backend, { ttlMs: 60_000 });
    const read = cache.get('a');
    await cache.put('a', { v: 'new' });
    await read;
    expect((await cache.get('a'))?.data).toEqual({ v: 'new' });
  });

  test('callers get copies: mutating a result does not change the cache', async () => {
    const cache = cached(createMemoryProvider());
    await cache.put('a', { nested: { v: 1 } });
    const first = await cache.get('a');
    (first?.data.nested as { v: number }).v = 99;
    expect((await cache.get('a'))?.data).toEqual({ nested: { v: 1 } });
  });

  test('flat entries (a session record) are copies too: changing, adding or deleting a field of a result, or of the data put, changes nothing cached', async () => {
    const cache = cached(createMemoryProvider());
    const put = { session: '{"n":1}', expires_at: 5, user: 'u' };
    await cache.put('a', put);
    put.session = 'changed after put';
    const first = (await cache.get('a'))?.data as Record<string, unknown>;
    first.session = 'changed';
    first.extra = true;
    delete first.user;
    expect((await cache.get('a'))?.data).toEqual({ session: '{"n":1}', expires_at: 5, user: 'u' });
    expect(await cache.get('a')).not.toBe(await cache.get('a'));
  });

  test('max bounds the number of entries (least recently used go first)', async () => {
    const backend = counting(createMemoryProvider());
    const cache = cached(backend, { max: 2 });
    await cache.put('a', { v: 1 });
    await cache.put('b', { v: 2 });
    await cache.put('c', { v: 3 });
    await cache.get('a');
    expect(backend.count.get).toBe(1);
  });

  test('says whether it has check-and-set as the provider underneath does (unknown stays unknown)', async () => {
    await expect(cached(createMemoryProvider()).supportsCheckAndSet?.()).resolves.toBe(true);
    expect(cached(counting(createMemoryProvider())).supportsCheckAndSet).toBeUndefined();
  });

  test('bad options are refused', () => {
    expect(() => cached(createMemoryProvider(), { ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => cached(createMemoryProvider(), { max: 1.5 })).toThrow(/max/);
  });

  test('writes answered out of order never leave the older value cached', async () => {
    const inner = createMemoryProvider();
    const answers: (() => void)[] = [];
    const slow: SecretProvider = {
      ...inner,
      kind: 'memory',
      get: inner.get,
      delete: inner.delete,
      list: inner.list,
      close: inner.close,
      // each put is applied at once, but its answer waits until the test releases it
      put: async (path, data, opts) => {
        const result = await inner.put(path, data, opts);
        await new Promise<void>((release) => answers.push(release));
        return result;
      },
    };
    const cache = cached(slow, { ttlMs: 60_000 });
    const first = cache.put('a', { n: 1 });
    await new Promise((r) => setImmediate(r));
    const second = cache.put('a', { n: 2 }); // applied last: the backend holds n=2
    await new Promise((r) => setImmediate(r));
    answers[1]();
    await second;
    answers[0](); // the older write's answer arrives last
    await first;
    expect((await inner.get('a'))?.data).toEqual({ n: 2 });
    expect((await cache.get('a'))?.data).toEqual({ n: 2 });
  });

  test('an invalid path is refused before anything is cached, even over a provider that would take it', async () => {
    const lax = createMemoryProvider();
    const store = new Map<string, Record<string, unknown>>();
    // A custom provider that does not validate paths (cached() and SecretProvider are public).
    const provider: SecretProvider = {
      ...lax,
      put: async (path, data) => {
        store.set(path, data);
        return { version: 1 };
      },
      get: async (path) => (store.has(path) ? { data: store.get(path)!, version: 1 } : null),
    };
    const cache = cached(provider);
    for (const bad of ['/a', 'a//b', '../a']) {
      await expect(cache.put(bad, { v: 1 })).rejects.toMatchObject({ name: 'InvalidPathError' });
      await expect(cache.get(bad)).rejects.toMatchObject({ name: 'InvalidPathError' });
      await expect(cache.delete(bad)).rejects.toMatchObject({ name: 'InvalidPathError' });
    }
    expect(store.size).toBe(0);
  });
});
