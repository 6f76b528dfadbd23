// Revocation against the writes that used to undo it, made deterministic: a rotation whose read
// came before the revocation and whose write comes after (through `deliver`, which runs in
// between), and a last_used_at write scheduled before the revocation and run after it. On every
// provider, KV v1 (no check-and-set) included, the token stays revoked.
import { createFileProvider, createMemoryProvider, createVaultProvider, type SecretProvider, TokenStore } from '../../lib';
import { TokenError } from '../../lib/tokens/errors';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { removeTempDir, tempDir } from '../support/temp-dir';

type Open = () => Promise<{ provider: SecretProvider; close(): Promise<void> }>;

function suite(open: Open, kv1 = false): void {
  let provider: SecretProvider;
  let close: () => Promise<void>;
  let path: string;
  const stores: TokenStore[] = [];
  /** An instance (as in one process) on the shared backend. */
  const instance = () => {
    const s = new TokenStore({ provider, path, bcryptCost: 4, verifyCacheTtlMs: 0, lastUsedIntervalMs: 0, rateLimit: false });
    stores.push(s);
    return s;
  };
  beforeEach(async () => {
    ({ provider, close } = await open());
    path = `${uniquePrefix('revoke-races')}/tokens`;
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await close();
  });

  test('a rotation that read the record before a revocation and writes after it: TOKEN_NOT_FOUND, both secrets refused, nothing left', async () => {
    const [a, b] = [instance(), instance()];
    const { token, record } = await a.create({ name: 'raced' });
    let next = '';
    const rotation = b.rotate(record.id, {
      deliver: async (fresh) => {
        next = fresh;
        expect(await a.revoke(record.id)).toBe(true); // lands between the rotation's read and its write
      },
    });
    await expect(rotation).rejects.toBeInstanceOf(TokenError);
    await expect(rotation).rejects.toMatchObject({ code: 'TOKEN_NOT_FOUND' });
    for (const s of [a, b, instance()]) {
      expect(await s.verify(token)).toBeNull();
      expect(await s.verify(next)).toBeNull();
      expect(await s.get(record.id)).toBeNull();
    }
    expect(await provider.get(`${path}/${record.id}`)).toBeNull();
  });

  test('a last_used_at write scheduled before a revocation and run after it leaves neither the token nor its last-use record', async () => {
    const [a, b] = [instance(), instance()];
    const { token, record } = await a.create({ name: 'used' });
    expect(await b.verify(token)).not.toBeNull(); // schedules b's write (setImmediate)
    await a.revoke(record.id);
    await b.flush();
    expect(await provider.get(`${path}/${record.id}`)).toBeNull();
    expect(await provider.get(`${path}/last-used/${record.id}`)).toBeNull();
    expect(await b.verify(token)).toBeNull();
  });

  test('last uses live in their own record: get and list merge them, list shows only tokens', async () => {
    const a = instance();
    const kept = await a.create({ name: 'kept' });
    const gone = await a.create({ name: 'gone' });
    await a.verify(kept.token);
    await a.verify(gone.token);
    await a.flush();
    await a.revoke(gone.record.id);
    const raw = await provider.get(`${path}/${kept.record.id}`);
    expect(raw?.data.last_used_at).toBeNull(); // the token record itself is never rewritten by a use
    expect((await a.get(kept.record.id))?.lastUsedAt).not.toBeNull();
    const listed = await instance().list();
    expect(listed.map((t) => t.id)).toEqual([kept.record.id]);
    expect(listed[0].lastUsedAt).not.toBeNull();
  });

  if (kv1) {
    test('KV v1: revoke leaves a tombstone; a record a racing write put back is refused by verify and not listed', async () => {
      const a = instance();
      const { token, record } = await a.create({ name: 'tomb' });
      const stored = await provider.get(`${path}/${record.id}`);
      await a.revoke(record.id);
      expect(await provider.get(`${path}/revoked/${record.id}`)).not.toBeNull();
      await provider.put(`${path}/${record.id}`, stored?.data ?? {}); // what a racing write could leave
      for (const s of [a, instance()]) {
        expect(await s.verify(token)).toBeNull();
        expect(await s.get(record.id)).toBeNull();
        expect(await s.list()).toEqual([]);
      }
      await expect(a.rotate(record.id)).rejects.toMatchObject({ code: 'TOKEN_NOT_FOUND' });
    });
  }
}

describe('revocation races: memory', () => suite(async () => ({ provider: createMemoryProvider(), close: async () => {} })));

describe('revocation races: file', () =>
  suite(async () => {
    const dir = await tempDir('esa-revoke-races-');
    const provider = createFileProvider({ basePath: dir, fsync: false });
    return { provider, close: () => provider.close().then(() => removeTempDir(dir)) };
  }));

describeWith('openbao', 'revocation races: OpenBao', () => {
  let v1 = '';
  beforeAll(async () => {
    const { address, token } = sharedVault();
    v1 = uniquePrefix('kv1-revoke');
    await enableKvV1(address, token, v1);
  });
  const vault =
    (mount: () => string, kvVersion: 1 | 2): Open =>
    async () => {
      const { address, token } = sharedVault();
      const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: mount(), kvVersion });
      return { provider, close: () => provider.close() };
    };
  describe('KV v2', () => suite(vault(() => 'secret', 2)));
  describe('KV v1', () =>
    suite(
      vault(() => v1, 1),
      true,
    ));
});
