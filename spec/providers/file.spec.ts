import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendError, ConfigError, ConflictError, createFileProvider, DecryptionError, InvalidPathError } from '../../lib';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

describe('file provider specifics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('esa-file-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  test('folders are 0700 and files 0600', async () => {
    const base = join(dir, 'store');
    const provider = createFileProvider({ basePath: base });
    await provider.put('team/app/key', { v: 1 });
    expect((await stat(base)).mode & 0o777).toBe(0o700);
    expect((await stat(join(base, 'team', 'app'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(base, 'team', 'app', 'key.json'))).mode & 0o777).toBe(0o600);
  });

  test('encrypted files hold no plaintext and a wrong key is a clear error, not garbage', async () => {
    const good = createFileProvider({ basePath: dir, encryptionKey: 'a'.repeat(64) });
    await good.put('s/one', { password: 'hunter2-very-secret' });
    const raw = await readFile(join(dir, 's', 'one.json'), 'utf8');
    expect(raw).not.toContain('hunter2');
    expect(raw).not.toContain('password');
    expect((await good.get('s/one'))?.data).toEqual({ password: 'hunter2-very-secret' });

    const wrong = createFileProvider({ basePath: dir, encryptionKey: 'b'.repeat(64) });
    const err = await wrong.get('s/one').catch((e: Error) => e);
    expect(err).toBeInstanceOf(DecryptionError);
    expect((err as Error).message).toMatch(/key is wrong/);

    const noKey = createFileProvider({ basePath: dir });
    await expect(noKey.get('s/one')).rejects.toBeInstanceOf(ConfigError);
  });

  test('an encrypted file moved to another path does not decrypt (path is authenticated)', async () => {
    const provider = createFileProvider({ basePath: dir, encryptionKey: 'a passphrase of some length' });
    await provider.put('a', { who: 'a' });
    await provider.put('b', { who: 'b' });
    await rename(join(dir, 'a.json'), join(dir, 'b.json'));
    await expect(provider.get('b')).rejects.toBeInstanceOf(DecryptionError);
  });

  test('an encrypting provider refuses a plaintext secret file instead of trusting it', async () => {
    await createFileProvider({ basePath: dir }).put('p', { v: 1 });
    await expect(createFileProvider({ basePath: dir, encryptionKey: 'c'.repeat(64) }).get('p')).rejects.toBeInstanceOf(DecryptionError);
  });

  test('short passphrases and malformed keys are refused at start-up', () => {
    expect(() => createFileProvider({ basePath: dir, encryptionKey: 'short' })).toThrow(ConfigError);
    expect(() => createFileProvider({ basePath: dir, encryptionKey: Buffer.alloc(16) })).toThrow(ConfigError);
    expect(() => createFileProvider({ basePath: '' })).toThrow(ConfigError);
  });

  test('a plain-text file reads as a secret with the single key "value"', async () => {
    await mkdir(join(dir, 'mounted'));
    await writeFile(join(dir, 'mounted', 'db-password'), 's3cr3t\n');
    const provider = createFileProvider({ basePath: dir });
    expect(await provider.get('mounted/db-password')).toEqual({ data: { value: 's3cr3t' } });
    expect(await provider.list('mounted')).toEqual(['db-password']);
  });

  test('names the provider uses for itself are refused; delete removes a plain-text secret too', async () => {
    const provider = createFileProvider({ basePath: dir });
    await provider.put('a/b', { secret: 'x' });
    await expect(provider.get('a/b.json')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(provider.put('a/c.esa-tmp', { v: 1 })).rejects.toBeInstanceOf(InvalidPathError);
    await mkdir(join(dir, 'mounted'));
    await writeFile(join(dir, 'mounted', 'token'), 'plain\n');
    await provider.delete('mounted/token');
    expect(await provider.get('mounted/token')).toBeNull();
  });

  test('left-over temp files from a crash are invisible to list and get', async () => {
    const provider = createFileProvider({ basePath: dir });
    await provider.put('k/real', { v: 1 });
    await writeFile(join(dir, 'k', 'real.json.0123456789ab.esa-tmp'), '{"partial');
    await writeFile(join(dir, 'k', 'other.json.0123456789ab.esa-tmp'), '{"partial');
    expect(await provider.list('k')).toEqual(['real']);
    expect(await provider.get('k/other')).toBeNull();
  });

  test('listing removes temp files a crashed writer left over a minute ago, and keeps fresh ones', async () => {
    const provider = createFileProvider({ basePath: dir });
    await provider.put('k/real', { v: 1 });
    const stale = join(dir, 'k', 'old.json.0123456789ab.esa-tmp');
    const fresh = join(dir, 'k', 'new.json.0123456789ab.esa-tmp');
    await writeFile(stale, '{"partial');
    await writeFile(fresh, '{"partial');
    const longAgo = new Date(Date.now() - 120_000);
    await utimes(stale, longAgo, longAgo);
    expect(await provider.list('k')).toEqual(['real']);
    await sleep(50);
    expect((await readdir(join(dir, 'k'))).sort()).toEqual(['new.json.0123456789ab.esa-tmp', 'real.json']);
  });

  test('a corrupted file is an error that does not echo its contents', async () => {
    const provider = createFileProvider({ basePath: dir });
    await writeFile(join(dir, 'broken.json'), '{"esa":1,"version":1,"data":{"token":"leak-me"');
    const err = await provider.get('broken').catch((e: Error) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).not.toContain('leak-me');
  });

  test('a file-system failure is a BackendError naming the operation, path and code (the fs error stays as cause)', async () => {
    const basePath = join(dir, 'not-a-folder');
    await writeFile(basePath, 'x');
    const provider = createFileProvider({ basePath });
    for (const [operation, call] of [
      ['write', () => provider.put('a/b', { v: 1 })],
      ['delete', () => provider.delete('a/b')],
    ] as const) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BackendError);
      expect((err as BackendError).message).toMatch(new RegExp(`^file provider: cannot ${operation} "a/b": Error \\((EEXIST|ENOTDIR)\\); `));
      expect((err as BackendError).message).not.toContain(basePath);
      expect((err as Error & { cause?: { code?: string } }).cause?.code).toMatch(/^(EEXIST|ENOTDIR)$/);
    }
  });

  test('concurrent writes to one path are serialised: versions are exact and no temp file remains', async () => {
    const provider = createFileProvider({ basePath: dir });
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => provider.put('busy', { i })));
    expect(results.map((r) => r.version).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect((await provider.get('busy'))?.version).toBe(25);
    expect(await readdir(dir)).toEqual(['busy.json']);
  });

  test('two providers on one folder (as two processes): every write reads the version from the file', async () => {
    const a = createFileProvider({ basePath: dir });
    const b = createFileProvider({ basePath: dir });
    await a.put('shared', { by: 'a' });
    await b.put('shared', { by: 'b' });
    // a last wrote version 1, but reads the file under the lock: no version is repeated.
    await expect(a.put('shared', { by: 'a again' })).resolves.toEqual({ version: 3 });
    const seen = await b.get('shared');
    expect(seen?.data).toEqual({ by: 'a again' });
    await expect(b.put('shared', { by: 'b, cas' }, { cas: seen?.version })).resolves.toEqual({ version: (seen?.version ?? 0) + 1 });
    await expect(a.put('shared', { by: 'a, stale cas' }, { cas: seen?.version })).rejects.toBeInstanceOf(ConflictError);
    expect((await a.get('shared'))?.data).toEqual({ by: 'b, cas' });
  });

  test('a folder removed behind the provider is created again on the next write', async () => {
    const provider = createFileProvider({ basePath: dir });
    await provider.put('team/a', { v: 1 });
    await rm(join(dir, 'team'), { recursive: true });
    await provider.put('team/b', { v: 2 });
    expect((await provider.get('team/b'))?.data).toEqual({ v: 2 });
  });
});
