import { createVaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { sharedVault, uniquePrefix } from '../support/vault';
import { tokenStoreSuite } from './store-suite';

/** Raw KV v2 reads straight over HTTP: every key under `folder` (sub-folders too), data and metadata as sent by OpenBao. */
async function rawDump(address: string, token: string, folder: string): Promise<{ keys: number; text: string }> {
  const call = async (method: string, path: string): Promise<string> => {
    const res = await fetch(`${address}/v1/${path}`, { method, headers: { 'X-Vault-Token': token } });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
    return res.text();
  };
  const texts: string[] = [];
  let keys = 0;
  const walk = async (dir: string): Promise<void> => {
    const listing = JSON.parse(await call('LIST', `secret/metadata/${dir}`)) as { data: { keys: string[] } };
    for (const key of listing.data.keys) {
      if (key.endsWith('/')) {
        await walk(`${dir}/${key.slice(0, -1)}`);
        continue;
      }
      keys++;
      texts.push(await call('GET', `secret/data/${dir}/${key}`));
      texts.push(await call('GET', `secret/metadata/${dir}/${key}`));
    }
  };
  await walk(folder);
  return { keys, text: texts.join('\n') };
}

describeWith('openbao', 'TokenStore on OpenBao (KV v2, shared dev server)', () => {
  tokenStoreSuite(async () => {
    const { address, token } = sharedVault();
    const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2 });
    const path = `${uniquePrefix('tokens')}/tokens`;
    return {
      provider,
      backendCalls: () => provider.requestCount,
      path,
      rawDump: () => rawDump(address, token, path),
      close: () => provider.close(),
    };
  });
});
