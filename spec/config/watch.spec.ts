// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these specs are about the ${...} reference syntax
import { type SecretRefWatcher, watchSecretRefs } from '../../lib';
import { ConfigError, SecretReferenceError } from '../../lib/errors';
import { createFileProvider } from '../../lib/providers/file';
import { createMemoryProvider } from '../../lib/providers/memory';
import type { SecretProvider } from '../../lib/providers/types';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

interface Tokens {
  ci: string;
  header: string;
}

const TEMPLATE: Tokens = { ci: '{{ secret.file.ci/token.value }}', header: 'Bearer {{ secret.file.ci/token.value }}' };

/** The next 'change' event of a watcher, as a promise. */
function nextChange<T>(watcher: SecretRefWatcher<T>): Promise<[T, T]> {
  return new Promise((resolve) => {
    const listener = (next: T, prev: T) => {
      watcher.off('change', listener);
      resolve([next, prev]);
    };
    watcher.on('change', listener);
  });
}

describe('watchSecretRefs', () => {
  let dir: string;
  let file: SecretProvider;
  const watchers: SecretRefWatcher<unknown>[] = [];

  async function watch(opts: Parameters<typeof watchSecretRefs>[2] = {}): Promise<SecretRefWatcher<Tokens>> {
    const watcher = await watchSecretRefs(TEMPLATE, { file }, opts);
    watchers.push(watcher);
    return watcher;
  }

  beforeEach(async () => {
    dir = await tempDir('esa-watch-');
    file = createFileProvider({ basePath: dir });
    await file.put('ci/token', { value: 'first' });
  });

  afterEach(async () => {
    for (const w of watchers.splice(0)) w.close();
    await removeTempDir(dir);
  });

  it('resolves at once', async () => {
    const watcher = await watch();
    expect(watcher.current).toEqual({ ci: 'first', header: 'Bearer first' });
  });

  it('rejects when the first resolution fails', async () => {
    await expect(watchSecretRefs('{{ secret.file.absent/x.value }}', { file })).rejects.toThrow(SecretReferenceError);
  });

  it('rejects a negative refreshIntervalMs', async () => {
    await expect(watchSecretRefs('x', {}, { refreshIntervalMs: -1 })).rejects.toThrow(ConfigError);
  });

  it('emits nothing when refresh finds the same values', async () => {
    const watcher = await watch();
    const changes = jest.fn();
    watcher.on('change', changes);
    await file.put('ci/token', { value: 'first' }); // rewritten, same value
    expect(await watcher.refresh()).toBe(false);
    expect(changes).not.toHaveBeenCalled();
  });

  it('emits change (next, prev) after the secret is updated', async () => {
    const watcher = await watch();
    const change = nextChange(watcher);
    await file.put('ci/token', { value: 'second' });
    expect(await watcher.refresh()).toBe(true);
    const [next, prev] = await change;
    expect(prev).toEqual({ ci: 'first', header: 'Bearer first' });
    expect(next).toEqual({ ci: 'second', header: 'Bearer second' });
    expect(watcher.current).toBe(next);
    expect(await watcher.refresh()).toBe(false);
  });

  it('re-resolves on its own every refreshIntervalMs', async () => {
    const watcher = await watch({ refreshIntervalMs: 20 });
    const changes = jest.fn();
    watcher.on('change', changes);
    await sleep(70);
    expect(changes).not.toHaveBeenCalled();
    const change = nextChange(watcher);
    await file.put('ci/token', { value: 'rotated' });
    const [next] = await change;
    expect(next.ci).toBe('rotated');
    expect(changes).toHaveBeenCalledTimes(1);
  });

  it('keeps the last good value and reports a failed timed refresh', async () => {
    const onError = jest.fn();
    const watcher = await watch({ refreshIntervalMs: 20, onError });
    const errors = new Promise<Error>((resolve) => watcher.on('error', resolve));
    await file.delete('ci/token');
    const err = await errors;
    expect(err).toBeInstanceOf(SecretReferenceError);
    expect(onError).toHaveBeenCalledWith(err);
    expect(watcher.current.ci).toBe('first');
    await expect(watcher.refresh()).rejects.toThrow(SecretReferenceError);
    // It recovers once the secret is back.
    const change = nextChange(watcher);
    await file.put('ci/token', { value: 'restored' });
    expect((await change)[0].ci).toBe('restored');
  });

  it('does not throw from the timer when nobody listens for errors', async () => {
    const watcher = await watch({ refreshIntervalMs: 10 });
    await file.delete('ci/token');
    await sleep(50);
    expect(watcher.current.ci).toBe('first');
  });

  it('stops on close', async () => {
    const watcher = await watch({ refreshIntervalMs: 10 });
    const changes = jest.fn();
    watcher.on('change', changes);
    watcher.close();
    await file.put('ci/token', { value: 'after-close' });
    await sleep(50);
    expect(await watcher.refresh()).toBe(false);
    expect(changes).not.toHaveBeenCalled();
    expect(watcher.current.ci).toBe('first');
  });

  it('works with the memory provider and env references together', async () => {
    const memory = createMemoryProvider();
    await memory.put('db', { password: 'one' });
    const env: NodeJS.ProcessEnv = { DB_USER: 'app' };
    const watcher = await watchSecretRefs({ url: 'pg://${env:DB_USER}:${secret:memory:db:password}@h' }, { memory }, { env });
    watchers.push(watcher);
    env.DB_USER = 'admin';
    expect(await watcher.refresh()).toBe(true);
    expect(watcher.current.url).toBe('pg://admin:one@h');
  });
});
