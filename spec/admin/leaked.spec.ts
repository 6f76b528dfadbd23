// The leak-report endpoint on Express 5, on the file provider and on OpenBao KV v2.
import { createFileProvider, createVaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sharedVault, uniquePrefix } from '../support/vault';
import { leakedCases } from './cases-leaked';

test('express is version 5 in this file', () => {
  expect(jest.requireActual<{ version: string }>('express/package.json').version).toMatch(/^5\./);
});

leakedCases('the file provider (express 5)', async () => {
  const dir = await tempDir('esa-leaked-');
  return { provider: createFileProvider({ basePath: dir }), tokenPath: 'tokens', close: () => removeTempDir(dir) };
});

describeWith('openbao', 'OpenBao', () => {
  leakedCases('OpenBao KV v2 (express 5)', async () => {
    const { address, token } = sharedVault();
    const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2 });
    return { provider, tokenPath: uniquePrefix('leaked-tokens'), close: () => provider.close() };
  });
});
