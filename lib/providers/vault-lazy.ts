// The public `createVaultProvider`: loads the Vault provider (and with it node-vault and axios) on
// the first call, so an app on the file or memory provider never loads them.
import type * as VaultModule from './vault';
import type { VaultProvider, VaultProviderOptions } from './vault';

let loaded: typeof VaultModule | undefined;

/**
 * Vault / OpenBao KV provider (v1 or v2 mounts) built on node-vault, for one server or every node
 * of an HA cluster. On KV v2, `delete` removes the key's metadata (every version) so nothing
 * lingers and `put` honours `cas`. node-vault is loaded on the first call, not at `require` time.
 * `env` supplies the VAULT_* fallbacks (default `process.env`).
 */
export function createVaultProvider(options?: VaultProviderOptions, env?: NodeJS.ProcessEnv): VaultProvider {
  // A plain `require` keeps this synchronous in the CommonJS build (the ES module entry re-exports it).
  loaded ??= require('./vault') as typeof VaultModule;
  return loaded.createVaultProvider(options, env);
}
