// Old option names (before every in-process time ended in `Ms`) keep working for one minor
// version: each still sets its option, warns once per process with code ESA_DEPRECATED_OPTION
// naming the new option, and giving both names is a ConfigError.
import { cached, ConfigError, createMemoryProvider, SecretsSessionStore, TokenStore, tokenAdminRouter, watchSecretRefs } from '../../lib';
import { counting } from '../support/counting';

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

/** The deprecation warnings emitted so far, as [message, code]. */
function deprecations(): [string, string][] {
  return warn.mock.calls
    .filter(([, o]) => (o as { type?: string } | undefined)?.type === 'DeprecationWarning')
    .map(([message, o]) => [String(message), String((o as { code?: string }).code)]);
}

const sweeperIntervalOf = (store: SecretsSessionStore) => (store as unknown as { sweeper?: { intervalMs: number } }).sweeper?.intervalMs;

describe('deprecated option names', () => {
  test('session store cleanupInterval (seconds) still sets the sweep interval, as ms, and warns once', async () => {
    const stores = [0, 1].map(() => new SecretsSessionStore({ provider: createMemoryProvider(), cleanupInterval: 20 }));
    expect(stores.map(sweeperIntervalOf)).toEqual([20_000, 20_000]);
    expect(deprecations()).toEqual([[expect.stringMatching(/cleanupInterval .*cleanupIntervalMs \(seconds × 1000\)/), 'ESA_DEPRECATED_OPTION']]);
    await Promise.all(stores.map((s) => s.close()));
  });

  test('cached() ttl (ms) still sets the cache lifetime and warns once', async () => {
    const backend = counting(createMemoryProvider());
    await backend.put('a', { v: 1 });
    const cache = cached(backend, { ttl: 60_000 });
    cached(backend, { ttl: 60_000 });
    await cache.get('a');
    await cache.get('a');
    expect(backend.count.get).toBe(1);
    expect(() => cached(backend, { ttl: 0 })).toThrow(/ttlMs/);
    expect(deprecations()).toEqual([[expect.stringMatching(/ttl .*ttlMs/), 'ESA_DEPRECATED_OPTION']]);
  });

  test('TokenStore verifyCacheTtl and lastUsedInterval still reach their options and warn once each', async () => {
    const provider = createMemoryProvider();
    expect(() => new TokenStore({ provider, verifyCacheTtl: -1 })).toThrow(/verifyCacheTtlMs/);
    expect(() => new TokenStore({ provider, lastUsedInterval: -5 })).toThrow(/lastUsedIntervalMs/);
    const store = new TokenStore({ provider, verifyCacheTtl: 0, lastUsedInterval: 0 });
    expect(deprecations().map(([m]) => m)).toEqual([
      expect.stringMatching(/verifyCacheTtl .*verifyCacheTtlMs/),
      expect.stringMatching(/lastUsedInterval .*lastUsedIntervalMs/),
    ]);
    await store.close();
  });

  test('watchSecretRefs refreshInterval still reaches its option and warns once', async () => {
    await expect(watchSecretRefs('x', {}, { refreshInterval: -1 })).rejects.toThrow(/refreshIntervalMs/);
    const watcher = await watchSecretRefs('x', {}, { refreshInterval: 0 });
    watcher.close();
    expect(deprecations()).toEqual([[expect.stringMatching(/refreshInterval .*refreshIntervalMs/), 'ESA_DEPRECATED_OPTION']]);
  });

  test('tokenAdminRouter autoRotate.interval still reaches its option and warns once', async () => {
    const tokens = new TokenStore({ provider: createMemoryProvider() });
    const provider = createMemoryProvider();
    expect(() => tokenAdminRouter({ tokens, autoRotate: { provider, interval: 5 } })).toThrow(/intervalMs must be at least 1000 ms/);
    const router = tokenAdminRouter({ tokens, autoRotate: { provider, interval: 60_000 } });
    router.close();
    expect(deprecations()).toEqual([[expect.stringMatching(/autoRotate: the option interval .*intervalMs/), 'ESA_DEPRECATED_OPTION']]);
    await tokens.close();
  });

  test('giving an option under both names is a ConfigError', async () => {
    const provider = createMemoryProvider();
    expect(() => new SecretsSessionStore({ provider, cleanupInterval: 0, cleanupIntervalMs: 0 })).toThrow(ConfigError);
    expect(() => cached(provider, { ttl: 1, ttlMs: 1 })).toThrow(ConfigError);
    expect(() => new TokenStore({ provider, verifyCacheTtl: 0, verifyCacheTtlMs: 0 })).toThrow(ConfigError);
    expect(() => new TokenStore({ provider, lastUsedInterval: 0, lastUsedIntervalMs: 0 })).toThrow(ConfigError);
    await expect(watchSecretRefs('x', {}, { refreshInterval: 0, refreshIntervalMs: 0 })).rejects.toThrow(ConfigError);
    const tokens = new TokenStore({ provider });
    expect(() => tokenAdminRouter({ tokens, autoRotate: { provider, interval: 1000, intervalMs: 1000 } })).toThrow(ConfigError);
    await tokens.close();
  });
});
