// Reuse detection of rotated-away secrets (`token.reuse_detected`, `revokeOnReuse`) and the
// once-per-token expiry notice (`token.expiring`), on the file provider and OpenBao KV v2 and KV v1.
import { createFileProvider, createVaultProvider, type SecretProvider, type TokenEvent, TokenStore, type TokenStoreOptions } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sharedVault, uniquePrefix } from '../support/vault';

type Make = () => Promise<{ provider: SecretProvider; close: () => Promise<void> }>;

function suite(name: string, make: Make): void {
  describe(name, () => {
    let provider: SecretProvider;
    let close: () => Promise<void>;
    let clock = Date.now();
    const stores: TokenStore[] = [];
    const path = uniquePrefix('reuse');
    const open = (events: TokenEvent[], extra: Partial<TokenStoreOptions> = {}) => {
      const store = new TokenStore({
        provider,
        path,
        bcryptCost: 4,
        verifyCacheTtlMs: 0,
        rateLimit: false,
        logger: { warn() {} },
        now: () => clock,
        onAudit: (e) => {
          events.push(e);
        },
        expiryCheckIntervalMs: 0,
        ...extra,
      });
      stores.push(store);
      return store;
    };
    beforeAll(async () => {
      ({ provider, close } = await make());
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await close();
    });

    test('a rotated-away secret is reported with its id, never revoked by a forged token with that id', async () => {
      const events: TokenEvent[] = [];
      const store = open(events);
      const first = await store.create({ name: 'ci' });
      const second = await store.rotate(first.record.id);
      const reads = countReads(provider);
      await expect(store.verify(second.token)).resolves.toMatchObject({ tokenId: first.record.id });
      const validReads = reads.stop();
      // The record (and on KV v1 its tombstone), as before: nothing extra on the hot path.
      expect(validReads).toBe((await provider.supportsCheckAndSet?.()) === false ? 2 : 1);
      const forged = generateToken('esa', first.record.id).token;
      await expect(store.verify(forged)).resolves.toBeNull();
      expect(events).toEqual([]);
      await expect(store.verify(first.token)).resolves.toBeNull();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'token.reuse_detected',
        actor: null,
        token: { id: first.record.id, name: 'ci' },
        details: { successor_id: first.record.id, revoked: false },
      });
      expect(JSON.stringify(events)).not.toContain(first.token.slice(17));
      await expect(store.verify(second.token)).resolves.not.toBeNull(); // successor kept (revokeOnReuse off)
      console.log(`${name}: valid verify reads=${validReads}, forged events=0, reuse events=${events.length}`);
    });

    test('within the grace the old secret works silently; after it, it is reuse', async () => {
      const events: TokenEvent[] = [];
      const store = open(events);
      const first = await store.create({ name: 'grace' });
      await store.rotate(first.record.id, { grace: 60 });
      await expect(store.verify(first.token)).resolves.not.toBeNull();
      expect(events).toEqual([]);
      clock += 61_000;
      await expect(store.verify(first.token)).resolves.toBeNull();
      expect(events.map((e) => e.action)).toEqual(['token.reuse_detected']);
    });

    test('revokeOnReuse revokes the successor; a forged token never does', async () => {
      const events: TokenEvent[] = [];
      const store = open(events, { revokeOnReuse: true });
      const first = await store.create({ name: 'gitlab' });
      const second = await store.rotate(first.record.id);
      await store.rotate(first.record.id).then(() => undefined); // two retired secrets
      const third = await store.rotate(first.record.id);
      for (let i = 0; i < 5; i++) await expect(store.verify(generateToken('esa', first.record.id).token)).resolves.toBeNull();
      await expect(store.verify(third.token)).resolves.not.toBeNull();
      expect(events).toEqual([]);
      await expect(store.verify(second.token)).resolves.toBeNull();
      expect(events[0]).toMatchObject({ action: 'token.reuse_detected', details: { revoked: true } });
      await expect(store.verify(third.token)).resolves.toBeNull();
      await expect(store.get(first.record.id)).resolves.toBeNull();
    });

    test('token.expiring once per token and expiry over two stores, static tokens too', async () => {
      const a: TokenEvent[] = [];
      const b: TokenEvent[] = [];
      const statics = [{ name: 'legacy', credential: 'x'.repeat(40), expires_at: new Date(clock + 2 * 86_400_000).toISOString() }];
      const epath = uniquePrefix('expiry');
      const one = open(a, { path: epath, staticTokens: statics });
      const two = open(b, { path: epath, staticTokens: statics });
      const soon = await one.create({ name: 'soon', expiresIn: '3d' });
      await one.create({ name: 'later', expiresIn: '30d' });
      await one.create({ name: 'never' });
      const [x, y] = await Promise.all([one.notifyExpiring(), two.notifyExpiring()]);
      const all = [...a, ...b];
      expect(all.map((e) => e.token.id).sort()).toEqual([soon.record.id, 'legacy'].sort());
      expect(all.every((e) => e.action === 'token.expiring')).toBe(true);
      expect(x.length + y.length).toBe(2);
      await expect(one.notifyExpiring()).resolves.toEqual([]);
      await expect(two.notifyExpiring()).resolves.toEqual([]);
      await one.rotate(soon.record.id, { expiresIn: '5d' }); // a new expiry: notified again, once
      const again = await Promise.all([one.notifyExpiring(), two.notifyExpiring()]);
      expect(again.flat()).toEqual([soon.record.id]);
      console.log(`${name}: expiring events=${all.length + again.flat().length} (2 tokens + 1 after rotation) over 2 stores`);
    });
  });
}

function countReads(provider: SecretProvider): { stop: () => number } {
  const original = provider.get.bind(provider);
  let n = 0;
  provider.get = (p: string) => {
    n++;
    return original(p);
  };
  return {
    stop: () => {
      provider.get = original;
      return n;
    },
  };
}

suite('file provider', async () => {
  const dir = await tempDir('esa-reuse-');
  return { provider: createFileProvider({ basePath: dir }), close: () => removeTempDir(dir) };
});

describeWith('openbao', 'OpenBao', () => {
  suite('OpenBao KV v2', async () => {
    const { address, token } = sharedVault();
    const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2 });
    return { provider, close: () => provider.close() };
  });
  suite('OpenBao KV v1', async () => {
    const { address, token } = sharedVault();
    const mount = uniquePrefix('kv1-reuse');
    await enableKvV1(address, token, mount);
    const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion: 1 });
    return { provider, close: () => provider.close() };
  });
});
