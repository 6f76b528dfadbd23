// revokeLeakedToken: the shared answer of the leak-report endpoint and the CLI.
import { createMemoryProvider, TokenStore } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { revokeLeakedToken } from '../../lib/tokens/leaked';

const CRED = 'static-credential-aaaaaaaaaaaa';

function open(): TokenStore {
  return new TokenStore({
    provider: createMemoryProvider(),
    bcryptCost: 4,
    verifyCacheTtlMs: 0,
    rateLimit: false,
    logger: { warn() {} },
    staticTokens: [{ name: 'ops', credential: CRED, scopes: ['admin'] }],
  });
}

describe('revokeLeakedToken', () => {
  test('a live stored token is revoked and then no longer verifies', async () => {
    const store = open();
    const issued = await store.create({ name: 'ci', scopes: ['read'] });
    const outcome = await revokeLeakedToken(store, issued.token);
    expect(outcome).toEqual({ id: issued.record.id, name: 'ci', scopes: ['read'], source: 'store', revoked: true });
    expect(JSON.stringify(outcome)).not.toContain(issued.token);
    expect(await store.verify(issued.token)).toBeNull();
    expect(await revokeLeakedToken(store, issued.token)).toBeNull();
  });

  test('unknown, malformed and well-formed-but-unknown strings give null and revoke nothing', async () => {
    const store = open();
    const kept = await store.create({ name: 'kept' });
    for (const candidate of ['', 'not a token', generateToken('esa').token, `${kept.token.slice(0, -1)}${kept.token.endsWith('x') ? 'y' : 'x'}`]) {
      // the last one differs from the kept token in its last character, whatever that was
      expect(await revokeLeakedToken(store, candidate)).toBeNull();
    }
    expect(await store.verify(kept.token)).toMatchObject({ tokenId: kept.record.id });
  });

  test('a config token verifies but is reported as not revoked (only its owner can remove it)', async () => {
    const store = open();
    expect(await revokeLeakedToken(store, CRED)).toEqual({ id: 'ops', name: 'ops', scopes: ['admin'], source: 'config', revoked: false });
    expect(await store.verify(CRED)).not.toBeNull();
  });
});
