// Invalid options are configuration errors (ConfigError, a SecretsAuthError with code CONFIG_ERROR
// naming the option), thrown when the store or middleware is built, never a bare RangeError.
import { bearerAuth, ConfigError, createMemoryProvider, SecretsAuthError, TokenStore, type TokenStoreOptions } from '../../lib';
import { hashToken } from '../../lib/tokens/hash';

const provider = createMemoryProvider();

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('option validation', () => {
  test.each<[string, Partial<TokenStoreOptions>, RegExp]>([
    ['verifyCacheTtlMs: -1', { verifyCacheTtlMs: -1 }, /verifyCacheTtlMs/],
    ['verifyCacheTtlMs: NaN', { verifyCacheTtlMs: Number.NaN }, /verifyCacheTtlMs/],
    ['verifyCacheMax: 0', { verifyCacheMax: 0 }, /verifyCacheMax/],
    ['bcryptConcurrency: 0', { bcryptConcurrency: 0 }, /bcryptConcurrency/],
    ['bcryptConcurrency: 1.5', { bcryptConcurrency: 1.5 }, /bcryptConcurrency/],
    ['bcryptMaxQueue: -1', { bcryptMaxQueue: -1 }, /bcryptMaxQueue/],
    ['lastUsedIntervalMs: -5', { lastUsedIntervalMs: -5 }, /lastUsedIntervalMs/],
  ])('TokenStore %s is a ConfigError naming the option', (_what, opts, name) => {
    const err = thrown(() => new TokenStore({ provider, ...opts }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(SecretsAuthError);
    expect((err as ConfigError).code).toBe('CONFIG_ERROR');
    expect((err as Error).message).toMatch(name);
  });

  test('bcryptMaxQueue: 0 is allowed (a verification never waits for a bcrypt slot)', () => {
    expect(() => new TokenStore({ provider, bcryptMaxQueue: 0 })).not.toThrow();
  });

  test.each([
    ['windowMs: 0', { windowMs: 0 }, /windowMs/],
    ['windowMs: 1.5', { windowMs: 1.5 }, /windowMs/],
    ['limit: 0', { limit: 0 }, /limit/],
  ])('TokenStore rateLimit %s is a ConfigError', (_what, rateLimit, name) => {
    const err = thrown(() => new TokenStore({ provider, rateLimit }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(name);
  });

  test("bearerAuth rateLimit options on a TokenStore are a ConfigError: the limit is the store's, one per store", () => {
    const tokens = new TokenStore({ provider });
    const err = thrown(() => bearerAuth({ tokens, rateLimit: { limit: 5 } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/TokenStore/);
    expect(() => bearerAuth({ tokens, rateLimit: false })).not.toThrow();
  });

  test.each([
    ['createConcurrency: 0', { createConcurrency: 0 }, /createConcurrency/],
    ['createMaxQueue: -1', { createMaxQueue: -1 }, /createMaxQueue/],
  ])('TokenStore %s is a ConfigError naming the option', (_what, opts, name) => {
    const err = thrown(() => new TokenStore({ provider, ...opts }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(name);
  });

  test('hashToken with a cost outside 4-31 is a ConfigError', async () => {
    await expect(hashToken('x', 32)).rejects.toBeInstanceOf(ConfigError);
  });
});
