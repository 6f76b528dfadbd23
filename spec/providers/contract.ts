// The provider contract: one suite, run with identical assertions against every provider.
import { ConfigError, ConflictError, InvalidPathError, type SecretProvider } from '../../lib';

export interface ContractTarget {
  /** A fresh provider whose keys live under a prefix no other spec uses. */
  make(): Promise<SecretProvider> | SecretProvider;
  /** Backend calls made so far (HTTP requests, file operations...), to prove "rejected before I/O". */
  ioCount(provider: SecretProvider): number;
  /** Whether the backend keeps versions and honours check-and-set. */
  versioned: boolean;
}

export const HOSTILE_PATHS: string[] = [
  '../x',
  'a/../../x',
  '..',
  '.',
  'a//b',
  '/leading',
  'trailing/',
  '%2e%2e',
  '%2e%2e/x',
  'a\0b',
  'a\\b',
  'a b',
  'é',
  'x'.repeat(4096),
  '',
];

export function providerContract(target: ContractTarget): void {
  let provider: SecretProvider;
  let root: string;

  beforeAll(async () => {
    provider = await target.make();
  });
  afterAll(async () => {
    await provider.close();
  });
  beforeEach(() => {
    root = `contract-${Math.random().toString(36).slice(2, 10)}`;
  });

  test('get of an absent path is null', async () => {
    await expect(provider.get(`${root}/absent`)).resolves.toBeNull();
  });

  test('put then get round-trips nested data and unicode', async () => {
    const data = { value: 'pässwörd ✓', nested: { n: 1, list: [1, 'two', null], flag: true } };
    await provider.put(`${root}/a`, data);
    const entry = await provider.get(`${root}/a`);
    expect(entry?.data).toEqual(data);
  });

  test('put replaces the whole secret', async () => {
    await provider.put(`${root}/a`, { x: 1, y: 2 });
    await provider.put(`${root}/a`, { z: 3 });
    expect((await provider.get(`${root}/a`))?.data).toEqual({ z: 3 });
  });

  test('segments may use every allowed character', async () => {
    const path = `${root}/sess:AZaz09._@+=-`;
    await provider.put(path, { ok: true });
    expect((await provider.get(path))?.data).toEqual({ ok: true });
    expect(await provider.list(root)).toEqual(['sess:AZaz09._@+=-']);
  });

  test('delete then get is null; deleting an absent path is not an error', async () => {
    await provider.put(`${root}/gone`, { v: 1 });
    await provider.delete(`${root}/gone`);
    await expect(provider.get(`${root}/gone`)).resolves.toBeNull();
    await expect(provider.delete(`${root}/never-there`)).resolves.toBeUndefined();
  });

  test('list gives direct children, folders with a trailing "/", sorted', async () => {
    await provider.put(`${root}/x`, { v: 1 });
    await provider.put(`${root}/y`, { v: 2 });
    await provider.put(`${root}/b/z`, { v: 3 });
    await provider.put(`${root}/b/deeper/w`, { v: 4 });
    expect(await provider.list(root)).toEqual(['b/', 'x', 'y']);
    expect(await provider.list(`${root}/`)).toEqual(['b/', 'x', 'y']);
    expect(await provider.list(`${root}/b`)).toEqual(['deeper/', 'z']);
  });

  test('list of an absent prefix is empty; an emptied folder disappears', async () => {
    expect(await provider.list(`${root}/nothing-here`)).toEqual([]);
    await provider.put(`${root}/f/only`, { v: 1 });
    await provider.put(`${root}/keep`, { v: 1 });
    await provider.delete(`${root}/f/only`);
    expect(await provider.list(root)).toEqual(['keep']);
    expect(await provider.list(`${root}/f`)).toEqual([]);
  });

  test.each(HOSTILE_PATHS.map((p) => [JSON.stringify(p).slice(0, 40), p]))('hostile path %s is rejected before any I/O', async (_label, hostile) => {
    const before = target.ioCount(provider);
    await expect(provider.get(hostile)).rejects.toBeInstanceOf(InvalidPathError);
    await expect(provider.put(hostile, { v: 1 })).rejects.toBeInstanceOf(InvalidPathError);
    await expect(provider.delete(hostile)).rejects.toBeInstanceOf(InvalidPathError);
    await expect(provider.get(`${root}/${hostile}`)).rejects.toBeInstanceOf(InvalidPathError);
    if (hostile !== '' && hostile !== 'trailing/') {
      await expect(provider.list(hostile)).rejects.toBeInstanceOf(InvalidPathError);
    }
    expect(target.ioCount(provider)).toBe(before);
  });

  test('an invalid path error never echoes the path (it may be request input)', async () => {
    const err = await provider.get('../evil-secret-looking-input').catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidPathError);
    expect((err as Error).message).not.toContain('evil-secret-looking-input');
  });

  test('says whether it has check-and-set (asked, not found out by a failing write)', async () => {
    await expect(provider.supportsCheckAndSet?.()).resolves.toBe(target.versioned);
  });

  if (target.versioned) {
    test('versions grow by one per write', async () => {
      const first = await provider.put(`${root}/v`, { n: 1 });
      const second = await provider.put(`${root}/v`, { n: 2 });
      expect(first.version).toBe(1);
      expect(second.version).toBe(2);
      expect((await provider.get(`${root}/v`))?.version).toBe(2);
    });

    test('check-and-set: cas 0 creates only if absent, a stale version conflicts', async () => {
      const path = `${root}/cas`;
      await expect(provider.put(path, { n: 1 }, { cas: 0 })).resolves.toEqual({ version: 1 });
      await expect(provider.put(path, { n: 2 }, { cas: 0 })).rejects.toBeInstanceOf(ConflictError);
      await expect(provider.put(path, { n: 2 }, { cas: 1 })).resolves.toEqual({ version: 2 });
      await expect(provider.put(path, { n: 3 }, { cas: 1 })).rejects.toBeInstanceOf(ConflictError);
      expect((await provider.get(path))?.data).toEqual({ n: 2 });
    });

    test('of two concurrent check-and-set writes exactly one wins', async () => {
      const path = `${root}/race`;
      await provider.put(path, { n: 0 });
      const results = await Promise.allSettled([provider.put(path, { n: 'a' }, { cas: 1 }), provider.put(path, { n: 'b' }, { cas: 1 })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ConflictError);
    });

    test('delete removes every version: a re-created key starts again at version 1', async () => {
      const path = `${root}/reborn`;
      await provider.put(path, { n: 1 });
      await provider.put(path, { n: 2 });
      await provider.delete(path);
      expect((await provider.put(path, { n: 3 })).version).toBe(1);
    });
  } else {
    test('check-and-set is refused with a clear error instead of being ignored', async () => {
      const err = await provider.put(`${root}/cas`, { n: 1 }, { cas: 0 }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/KV v2/);
      await expect(provider.get(`${root}/cas`)).resolves.toBeNull();
    });
  }
}
