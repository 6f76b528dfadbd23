// The policy docs/vault.md gives an instance that only verifies tokens (bearerAuth, no admin
// router): verification and its last_used_at write work with it, on a real OpenBao, and nothing
// else under the token path is writable.
import { createVaultProvider, TokenStore } from '../../lib';
import { describeWith } from '../support/components';
import { createToken, writePolicy } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { recordingLogger } from './helpers';

describeWith('openbao', 'verify-only instance policy (docs/vault.md)', () => {
  test('read on the records, create/update on last-used data, update/delete on its metadata: verify works and last_used_at is written', async () => {
    const { address, token: root } = sharedVault();
    const app = uniquePrefix('verify-only');
    const policy = [
      `path "secret/data/${app}/tokens/*" { capabilities = ["read"] }`,
      `path "secret/data/${app}/tokens/last-used/*" { capabilities = ["create", "read", "update"] }`,
      `path "secret/metadata/${app}/tokens/last-used/*" { capabilities = ["update", "delete"] }`,
    ].join('\n');
    const name = uniquePrefix('verify-only-policy');
    await writePolicy(address, root, name, policy);
    const limited = createVaultProvider({ address, mount: 'secret', auth: { method: 'token', token: await createToken(address, root, [name, 'default']) } });
    const rootProvider = createVaultProvider({ address, mount: 'secret', auth: { method: 'token', token: root } });
    const admin = new TokenStore({ provider: rootProvider, path: `${app}/tokens`, bcryptCost: 4 });
    const logger = recordingLogger();
    const verifier = new TokenStore({ provider: limited, path: `${app}/tokens`, bcryptCost: 4, verifyCacheTtlMs: 0, lastUsedIntervalMs: 0, logger });
    try {
      const { token, record } = await admin.create({ name: 'ci' });
      expect(await verifier.verify(token)).toMatchObject({ tokenId: record.id });
      await verifier.flush();
      expect(await verifier.verify(token)).not.toBeNull(); // the second write overwrites the last-use record
      await verifier.flush();
      expect(logger.messages).toEqual([]);
      expect((await admin.get(record.id))?.lastUsedAt).not.toBeNull();
      await expect(limited.put(`${app}/tokens/${record.id}`, { id: 'x' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    } finally {
      await verifier.close();
      await admin.close();
      await limited.close();
      await rootProvider.close();
    }
  });
});
