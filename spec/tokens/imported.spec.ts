import { createMemoryProvider, TokenStore } from '../../lib';
import { TokenError } from '../../lib/tokens/errors';
import { counting } from './helpers';

const LEGACY = 'legacy-ci-token-0123456789abcdef';

describe('importing existing credentials into the store', () => {
  test('an imported credential keeps working, as a bcrypt-hashed record, when the store accepts imports', async () => {
    const provider = counting(createMemoryProvider());
    const writer = new TokenStore({ provider, bcryptCost: 4 });
    const info = await writer.importToken(LEGACY, { name: 'CI Pipeline Token', scopes: ['read'], createdBy: 'import' });
    expect(info).toMatchObject({ name: 'CI Pipeline Token', scopes: ['read'], source: 'store' });
    expect(info.id).toMatch(/^[0-9A-Za-z]{12}$/);

    const stored = await provider.get(`tokens/${info.id}`);
    expect(String(stored?.data.credential_hash)).toMatch(/^bcrypt:\$2b\$04\$/);
    expect(JSON.stringify(stored)).not.toContain(LEGACY);

    const reader = new TokenStore({ provider, acceptImported: true, bcryptCost: 4 });
    await expect(reader.verify(LEGACY)).resolves.toMatchObject({ tokenId: info.id, name: 'CI Pipeline Token', scopes: ['read'] });
    await expect(reader.verify(`${LEGACY}x`)).resolves.toBeNull();
    expect((await reader.list()).map((t) => t.id)).toContain(info.id);
  });

  test('without acceptImported, such strings are refused with no backend call', async () => {
    const provider = counting(createMemoryProvider());
    const store = new TokenStore({ provider, bcryptCost: 4 });
    await store.importToken(LEGACY, { name: 'old' });
    const before = provider.calls;
    await expect(store.verify(LEGACY)).resolves.toBeNull();
    expect(provider.calls).toBe(before);
  });

  test('with acceptImported, a string claiming the token prefix still fails offline (no backend call)', async () => {
    const provider = counting(createMemoryProvider());
    const store = new TokenStore({ provider, acceptImported: true, bcryptCost: 4 });
    const { token } = await store.create({ name: 'real' });
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const before = provider.calls;
    await expect(store.verify(tampered)).resolves.toBeNull();
    expect(provider.calls).toBe(before);
  });

  test('importing twice is a TOKEN_EXISTS error; a token in the library format keeps its id', async () => {
    const provider = createMemoryProvider();
    const source = new TokenStore({ provider: createMemoryProvider(), bcryptCost: 4 });
    const { token, record } = await source.create({ name: 'from another store' });
    const store = new TokenStore({ provider, bcryptCost: 4 });
    const imported = await store.importToken(token, { name: 'moved' });
    expect(imported.id).toBe(record.id);
    await expect(store.verify(token)).resolves.toMatchObject({ tokenId: record.id, name: 'moved' });
    const again = await store.importToken(token, { name: 'moved' }).catch((e: TokenError) => e);
    expect(again).toBeInstanceOf(TokenError);
    expect((again as TokenError).code).toBe('TOKEN_EXISTS');
    expect((again as Error).message).not.toContain(token);
  });

  test('short credentials are refused', async () => {
    const store = new TokenStore({ provider: createMemoryProvider(), bcryptCost: 4 });
    await expect(store.importToken('short', { name: 'x' })).rejects.toMatchObject({ code: 'INVALID_TOKEN_INPUT' });
  });
});
