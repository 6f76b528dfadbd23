// The TokenStore additions automatic rotation relies on: a stored delivery_path, and rotate()'s
// `deliver` hook, called before the record changes and refusing to rotate twice.
import { ConflictError, createMemoryProvider, type SecretProvider, TokenStore } from '../../lib';
import { TokenError } from '../../lib/tokens/errors';

describe('TokenStore delivery support', () => {
  let provider: SecretProvider;
  let store: TokenStore;
  beforeEach(() => {
    provider = createMemoryProvider();
    store = new TokenStore({ provider, bcryptCost: 4 });
  });

  test('create keeps a deliveryPath in the record and shows it; tokens without one have no such key', async () => {
    const { record } = await store.create({ name: 'a', deliveryPath: 'apps/a/token', expiresIn: '1d' });
    expect(record.deliveryPath).toBe('apps/a/token');
    expect((await provider.get(`tokens/${record.id}`))?.data.delivery_path).toBe('apps/a/token');
    expect((await store.get(record.id))?.deliveryPath).toBe('apps/a/token');
    const plain = await store.create({ name: 'b' });
    expect('deliveryPath' in plain.record).toBe(false);
  });

  test.each(['../x', '/abs', 'a//b', 'a b', ''])('create refuses the deliveryPath %j', async (path) => {
    await expect(store.create({ name: 'a', deliveryPath: path })).rejects.toThrow(TokenError);
  });

  test('deliver gets the new token and record before the record changes; a failing deliver changes nothing', async () => {
    const { token, record } = await store.create({ name: 'a', expiresIn: '1d' });
    await expect(
      store.rotate(record.id, {
        deliver: async () => {
          throw new Error('no write');
        },
      }),
    ).rejects.toThrow('no write');
    expect(await store.verify(token)).not.toBeNull();
    expect((await store.get(record.id))?.rotatedAt).toBeNull();
    let seen: { token: string; rotatedAt: string | null; stored: unknown } | null = null;
    const issued = await store.rotate(record.id, {
      deliver: async (next, info) => {
        seen = { token: next, rotatedAt: info.rotatedAt, stored: (await provider.get(`tokens/${record.id}`))?.data.rotated_at };
      },
    });
    expect(seen).toEqual({ token: issued.token, rotatedAt: issued.record.rotatedAt, stored: undefined });
    expect((await store.get(record.id))?.rotatedAt).toBe(issued.record.rotatedAt);
  });

  test('with deliver, a rotation by someone else in the meantime is a ConflictError, not a second rotation', async () => {
    const { record } = await store.create({ name: 'a', expiresIn: '1d' });
    const other = new TokenStore({ provider, bcryptCost: 4 });
    let winner = '';
    await expect(
      store.rotate(record.id, {
        deliver: async () => {
          winner = (await other.rotate(record.id)).token;
        },
      }),
    ).rejects.toThrow(ConflictError);
    expect(await store.verify(winner)).not.toBeNull();
  });
});
