// The file provider's cross-process lock files, in one process: stale locks (a killed holder) are
// taken over within lockStaleMs, fresh ones (a live holder refreshing them) are waited for, a lost
// lock is noticed before commit, and lockStaleMs is validated. Several processes: file-processes.spec.ts.
import { mkdir, readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ConflictError, createFileProvider, InvalidPathError } from '../../lib';
import { createFileLocker, LockLostError } from '../../lib/providers/file-lock';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

const STALE_MS = 1_000;
/** Scheduling slack on a loaded 2-core machine: the bound promised is lockStaleMs + one retry (≤ 50 ms). */
const SLACK_MS = 4_000;

/** A lock file as a killed process leaves it, last refreshed `ageMs` ago. */
async function leftoverLock(file: string, ageMs: number): Promise<void> {
  await writeFile(`${file}.json.esa-lock`, '999999\n');
  const then = new Date(Date.now() - ageMs);
  await utimes(`${file}.json.esa-lock`, then, then);
}

describe('file provider: cross-process lock files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('esa-lock-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  test('a lock left by a killed process is taken over once it is lockStaleMs old, not before', async () => {
    const provider = createFileProvider({ basePath: dir, lockStaleMs: STALE_MS });
    await provider.put('s', { n: 1 });
    await leftoverLock(join(dir, 's'), 400);
    const started = Date.now();
    await expect(provider.put('s', { n: 2 }, { cas: 1 })).resolves.toEqual({ version: 2 });
    const waited = Date.now() - started;
    // Waited for the lock to turn stale (600 ms more), and no longer than the bound.
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(STALE_MS + SLACK_MS);
    expect((await provider.get('s'))?.data).toEqual({ n: 2 });
    expect(await readdir(dir)).toEqual(['s.json']);
  });

  test('an old leftover lock is taken over at once; deletes take it over too', async () => {
    const provider = createFileProvider({ basePath: dir, lockStaleMs: STALE_MS });
    await provider.put('a/x', { n: 1 });
    await leftoverLock(join(dir, 'a', 'x'), 60_000);
    const started = Date.now();
    await provider.delete('a/x');
    expect(Date.now() - started).toBeLessThan(SLACK_MS);
    expect(await provider.get('a/x')).toBeNull();
    expect(await readdir(join(dir, 'a'))).toEqual([]);
  });

  test('a lock its live holder keeps fresh is waited for past lockStaleMs, then the write goes through', async () => {
    const provider = createFileProvider({ basePath: dir, lockStaleMs: STALE_MS });
    await provider.put('held', { n: 1 });
    // Another process's lock, as its own locker holds it (refreshed every lockStaleMs / 4).
    const held = await createFileLocker(STALE_MS).acquire(join(dir, 'held.json'), async () => true);
    let settled = false;
    const write = provider.put('held', { n: 2 }, { cas: 1 }).finally(() => {
      settled = true;
    });
    await sleep(STALE_MS * 2);
    expect(settled).toBe(false);
    await held?.release();
    await expect(write).resolves.toEqual({ version: 2 });
  });

  test('several waiters on one stale lock: exactly one check-and-set create wins', async () => {
    await mkdir(join(dir, 'race'));
    await leftoverLock(join(dir, 'race', 'k'), 60_000);
    // Separate providers share no in-process lock map, like separate processes.
    const providers = Array.from({ length: 6 }, () => createFileProvider({ basePath: dir, lockStaleMs: STALE_MS }));
    const results = await Promise.allSettled(providers.map((p, i) => p.put('race/k', { by: i }, { cas: 0 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
  });

  test('increments from separate providers with check-and-set lose nothing and repeat no version', async () => {
    const providers = Array.from({ length: 4 }, () => createFileProvider({ basePath: dir, lockStaleMs: STALE_MS }));
    const seen: number[] = [];
    await Promise.all(
      providers.map(async (p) => {
        for (let done = 0; done < 15; ) {
          const current = await p.get('counter');
          const n = (current?.data.n as number | undefined) ?? 0;
          try {
            const { version } = await p.put('counter', { n: n + 1 }, { cas: current?.version ?? 0 });
            seen.push(version ?? -1);
            done++;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
          }
        }
      }),
    );
    expect(new Set(seen).size).toBe(60);
    expect(await providers[0].get('counter')).toEqual({ data: { n: 60 }, version: 60 });
    // Plain puts from separate providers read the version under the lock too: no repeats.
    const plain = await Promise.all(providers.flatMap((p) => [p.put('counter', { n: 0 }), p.put('counter', { n: 0 })]));
    expect(new Set(plain.map((r) => r.version)).size).toBe(8);
  });

  test('a holder whose lock was taken over notices before it commits', async () => {
    const locker = createFileLocker(STALE_MS);
    const file = join(dir, 'lost.json');
    const held = await locker.acquire(file, async () => true);
    await held?.assertHeld();
    // Another process judged it stale and replaced it with its own.
    await rename(`${file}.esa-lock`, `${file}.gone`);
    await writeFile(`${file}.esa-lock`, '1\n');
    await expect(held?.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    await held?.release();
    // The other process's lock is left alone.
    expect((await readdir(dir)).sort()).toEqual(['lost.json.esa-lock', 'lost.json.gone']);
  });

  test('leftover lock files never show in list and do not keep a folder listed', async () => {
    const provider = createFileProvider({ basePath: dir });
    await provider.put('f/keep', { v: 1 });
    await leftoverLock(join(dir, 'f', 'other'), 0);
    await mkdir(join(dir, 'only-a-lock'));
    await leftoverLock(join(dir, 'only-a-lock', 'x'), 0);
    expect(await provider.list('f')).toEqual(['keep']);
    expect(await provider.list('')).toEqual(['f/']);
    await expect(provider.get('f/other.json.esa-lock')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(provider.put('f/x.esa-lock', { v: 1 })).rejects.toBeInstanceOf(InvalidPathError);
  });

  test.each([0, 999, 600_001, Number.NaN, Number.POSITIVE_INFINITY, -5_000, '5000', null])('lockStaleMs %p is refused with a clear error', (bad) => {
    expect(() => createFileProvider({ basePath: dir, lockStaleMs: bad as number })).toThrow(ConfigError);
    expect(() => createFileProvider({ basePath: dir, lockStaleMs: bad as number })).toThrow(/lockStaleMs must be a number of milliseconds from 1000 to 600000/);
  });

  test('lockStaleMs bounds are accepted', () => {
    expect(() => createFileProvider({ basePath: dir, lockStaleMs: 1_000 })).not.toThrow();
    expect(() => createFileProvider({ basePath: dir, lockStaleMs: 600_000 })).not.toThrow();
  });
});
