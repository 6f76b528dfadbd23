import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ConfigError } from '../errors';
import { createFileProvider } from '../providers/file';
import { createMemoryProvider } from '../providers/memory';
import type { SecretProvider } from '../providers/types';
import type { VaultAuth, VaultProviderOptions, VaultTlsOptions } from '../providers/vault';
import { createVaultProvider } from '../providers/vault-lazy';
import { findSecretRefs, resolveSecretRefs } from './refs';
import type { FileProviderConfig, ProvidersConfig, VaultProviderConfig } from './schema';
import { toMs } from './to-ms';

/** Options for `createProvidersFromConfig`. */
export interface CreateProvidersOptions {
  /** Environment for `${env:NAME}` references and the Vault client's VAULT_* fallbacks. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Folder that relative `base_path` and TLS file paths are resolved against. Default: the working directory. */
  baseDir?: string;
}

type ProviderName = keyof ProvidersConfig;
type EnabledConfig = Extract<NonNullable<ProvidersConfig[ProviderName]>, { enabled: true }>;

interface Context {
  env: NodeJS.ProcessEnv;
  baseDir: string;
}

/** Maps `secrets.providers.vault.auth_method` and its fields to the provider's `auth` option. */
export function vaultAuthFromConfig(config: VaultProviderConfig): VaultAuth {
  switch (config.auth_method) {
    case 'approle':
      return { method: 'approle', roleId: config.role_id, secretId: config.secret_id, mountPath: config.auth_mount };
    case 'kubernetes':
      // The schema requires `role` for kubernetes; an empty role is refused by the provider.
      return { method: 'kubernetes', role: config.role ?? '', jwtPath: config.jwt_path, mountPath: config.auth_mount };
    default:
      return { method: 'token', token: config.token };
  }
}

async function readTlsFile(file: string | undefined, field: string, ctx: Context): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await fs.readFile(nodePath.resolve(ctx.baseDir, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'unknown error';
    throw new ConfigError(`secrets.providers.vault.tls.${field}: cannot read "${file}" (${code})`);
  }
}

async function vaultTlsFromConfig(tls: VaultProviderConfig['tls'], ctx: Context): Promise<VaultTlsOptions | undefined> {
  if (!tls) return undefined;
  return {
    ca: await readTlsFile(tls.ca_file, 'ca_file', ctx),
    cert: await readTlsFile(tls.cert_file, 'cert_file', ctx),
    key: await readTlsFile(tls.key_file, 'key_file', ctx),
    rejectUnauthorized: !tls.skip_verify,
  };
}

/** Maps the snake_case `secrets.providers.vault` block to `createVaultProvider` options (reads TLS files). */
export async function vaultOptionsFromConfig(config: VaultProviderConfig, opts: CreateProvidersOptions = {}): Promise<VaultProviderOptions> {
  const ctx = { env: opts.env ?? process.env, baseDir: opts.baseDir ?? process.cwd() };
  return {
    address: config.address,
    addresses: config.addresses,
    consistency: config.consistency,
    failoverBudgetMs: toMs(config.failover_budget),
    mount: config.mount,
    kvVersion: config.kv_version,
    namespace: config.namespace,
    auth: vaultAuthFromConfig(config),
    tls: await vaultTlsFromConfig(config.tls, ctx),
    timeoutMs: toMs(config.timeout),
    retries: config.retries,
  };
}

async function createVault(config: VaultProviderConfig, ctx: Context): Promise<SecretProvider> {
  // node-vault is loaded here, only when the vault provider is enabled.
  return createVaultProvider(await vaultOptionsFromConfig(config, ctx), ctx.env);
}

function createFile(config: FileProviderConfig, ctx: Context): SecretProvider {
  return createFileProvider({
    basePath: nodePath.resolve(ctx.baseDir, config.base_path),
    encryptionKey: config.encryption_key,
    lockStaleMs: toMs(config.lock_stale),
  });
}

async function createOne(name: ProviderName, config: EnabledConfig, ctx: Context): Promise<SecretProvider> {
  if (name === 'vault') return createVault(config as VaultProviderConfig, ctx);
  if (name === 'file') return createFile(config as FileProviderConfig, ctx);
  return createMemoryProvider();
}

function enabledEntries(config: ProvidersConfig): [ProviderName, EnabledConfig][] {
  return (Object.entries(config) as [ProviderName, ProvidersConfig[ProviderName]][]).filter(
    (entry): entry is [ProviderName, EnabledConfig] => entry[1]?.enabled === true,
  );
}

/** The providers a provider's options reference (e.g. a file `encryption_key` kept in Vault). */
function dependencies(config: EnabledConfig): Set<string> {
  return new Set(findSecretRefs(config).flatMap(({ ref }) => (ref.kind === 'secret' ? [ref.provider] : [])));
}

/** Creates providers in dependency order, resolving each one's references with those created before it. */
async function createInOrder(pending: [ProviderName, EnabledConfig][], created: Record<string, SecretProvider>, ctx: Context): Promise<void> {
  while (pending.length > 0) {
    const index = pending.findIndex(([, config]) => [...dependencies(config)].every((dep) => Object.hasOwn(created, dep)));
    if (index < 0) {
      const names = pending.map(([name]) => `secrets.providers.${name}`).join(', ');
      throw new ConfigError(`${names}: secret references in these options name a provider that is not enabled, or each other in a cycle`);
    }
    const [[name, config]] = pending.splice(index, 1);
    const resolved = await resolveSecretRefs(config, created, { env: ctx.env });
    created[name] = await createOne(name, resolved, ctx);
  }
}

/**
 * Creates the enabled providers of `secrets.providers`, keyed by name ("file", "vault",
 * "memory") as secret references expect. References inside a provider's options are resolved
 * first: `${env:NAME}` from `opts.env`, `{{ secret... }}` from providers created before it (so a
 * file `encryption_key` may come from Vault, or a Vault token from a file). If anything fails,
 * the providers already created are closed.
 *
 * @throws ConfigError for unreadable TLS files, reference cycles, or options a provider refuses;
 *   SecretReferenceError for a reference that cannot be resolved.
 */
export async function createProvidersFromConfig(config: ProvidersConfig, opts: CreateProvidersOptions = {}): Promise<Record<string, SecretProvider>> {
  const ctx = { env: opts.env ?? process.env, baseDir: opts.baseDir ?? process.cwd() };
  const created: Record<string, SecretProvider> = {};
  try {
    await createInOrder(enabledEntries(config), created, ctx);
    return created;
  } catch (err) {
    await Promise.allSettled(Object.values(created).map((p) => p.close()));
    throw err;
  }
}
