import { ConfigError, createMemoryProvider, TokenStore } from '../../lib';
import { watchSecretRefs } from '../../lib/config/watch';
import { hashToken, sha256Hash } from '../../lib/tokens/hash';
import type { StaticTokensInput } from '../../lib/tokens/types';
import { counting, recordingLogger } from './helpers';

const CRED = 'static-credential-aaaaaaaaaaaa';

describe('static tokens from configuration', () => {
  test('list form and Flipt map form both work', async () => {
    const provider = createMemoryProvider();
    const list = new TokenStore({ provider, staticTokens: [{ name: 'ops', credential: CRED, scopes: ['admin'] }] });
    const map = new TokenStore({
      provider,
      staticTokens: { ops: { credential: CRED, metadata: { description: 'operators', scopes: 'admin read' } } },
    });
    expect(await list.verify(CRED)).toEqual({ tokenId: 'ops', name: 'ops', scopes: ['admin'], source: 'config' });
    expect(await map.verify(CRED)).toEqual({ tokenId: 'ops', name: 'ops', scopes: ['admin', 'read'], source: 'config' });
    expect(await map.get('ops')).toMatchObject({ description: 'operators', source: 'config' });
  });

  test('credential_hash: sha256 and bcrypt', async () => {
    const store = new TokenStore({
      provider: createMemoryProvider(),
      staticTokens: [
        { name: 'legacy', credential_hash: sha256Hash('legacy-credential-0001') },
        { name: 'hashed', credential_hash: await hashToken('bcrypt-credential-0002', 4) },
      ],
    });
    expect(await store.verify('legacy-credential-0001')).toMatchObject({ tokenId: 'legacy' });
    expect(await store.verify('bcrypt-credential-0002')).toMatchObject({ tokenId: 'hashed' });
    expect(await store.verify('bcrypt-credential-0003')).toBeNull();
  });

  test('static tokens are matched without backend calls, and expire', async () => {
    const provider = counting(createMemoryProvider());
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const store = new TokenStore({ provider, now: () => clock, staticTokens: [{ name: 'temp', credential: CRED, expires_at: '2030-01-02T00:00:00Z' }] });
    expect(await store.verify(CRED)).not.toBeNull();
    expect(provider.calls).toBe(0);
    clock = Date.parse('2030-01-02T00:00:00Z');
    expect(await store.verify(CRED)).toBeNull();
  });

  test('bad configuration is one ConfigError naming config paths, never values', () => {
    const secret = 'short';
    const build = (staticTokens: unknown) => () => new TokenStore({ provider: createMemoryProvider(), staticTokens: staticTokens as StaticTokensInput });
    expect(build([{ name: 'a', credential: secret }])).toThrow(/staticTokens\[0\]\.credential must be at least 16/);
    expect(build([{ name: 'a' }])).toThrow(/exactly one of credential and credential_hash/);
    expect(build([{ name: 'a', credential_hash: 'md5:x' }])).toThrow(/credential_hash must be/);
    expect(build({ b: { credential: '{{ secret.vault.app/api.token }}' } })).toThrow(/staticTokens\.b\.credential is not a resolved string/);
    expect(
      build([
        { name: 'a', credential: CRED },
        { name: 'a', credential: `${CRED}x` },
      ]),
    ).toThrow(/duplicate token id "a"/);
    try {
      build([{ name: 'a', credential: secret }])();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).not.toContain(secret);
    }
  });

  test('setStaticTokens replaces them at runtime; the old credential stops at once (even when cached)', async () => {
    const store = new TokenStore({ provider: createMemoryProvider(), staticTokens: [{ name: 'ops', credential: CRED }] });
    expect(await store.verify(CRED)).not.toBeNull();
    store.setStaticTokens([{ name: 'ops', credential: `${CRED}-new` }]);
    expect(await store.verify(CRED)).toBeNull();
    expect(await store.verify(`${CRED}-new`)).not.toBeNull();
    expect(() => store.setStaticTokens([{ name: 'ops', credential: 'x' }])).toThrow(ConfigError);
    expect(await store.verify(`${CRED}-new`)).not.toBeNull(); // a bad replacement keeps the last good set
  });

  test('a credential from a secret reference changes when the reference changes on refresh', async () => {
    const vault = createMemoryProvider();
    await vault.put('app/api', { token: 'first-credential-from-vault' });
    const watcher = await watchSecretRefs<StaticTokensInput>([{ name: 'ci', credential: '{{ secret.vault.app/api.token }}', scopes: ['deploy'] }], { vault });
    const logger = recordingLogger();
    const store = new TokenStore({ provider: createMemoryProvider(), staticTokens: watcher, logger });
    expect(await store.verify('first-credential-from-vault')).toMatchObject({ tokenId: 'ci', scopes: ['deploy'] });
    await vault.put('app/api', { token: 'second-credential-from-vault' });
    expect(await watcher.refresh()).toBe(true);
    expect(await store.verify('first-credential-from-vault')).toBeNull();
    expect(await store.verify('second-credential-from-vault')).toMatchObject({ tokenId: 'ci' });
    await vault.put('app/api', { token: 'too-short' });
    await watcher.refresh();
    expect(await store.verify('second-credential-from-vault')).not.toBeNull();
    expect(logger.messages.join('\n')).toMatch(/static tokens not replaced/);
    expect(logger.messages.join('\n')).not.toContain('too-short');
    await store.close();
    watcher.close();
  });
});
