// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these specs are about the ${...} reference syntax
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, createFileProvider, parseConfig, type SecretProvider, SecretReferenceError } from '../../lib';
import { createProvidersFromConfig, vaultOptionsFromConfig } from '../../lib/config/providers';
import type { VaultProviderConfig } from '../../lib/config/schema';
import { removeTempDir, tempDir } from '../support/temp-dir';

const KEY = 'k'.repeat(64);

function providersOf(providers: unknown) {
  return parseConfig({ secrets: { providers } }).secrets.providers;
}

function vaultConfig(vault: Record<string, unknown>): VaultProviderConfig {
  const config = providersOf({ vault: { address: 'https://vault.example:8200', ...vault } }).vault;
  if (!config?.enabled) throw new Error('vault should be enabled');
  return config;
}

describe('createProvidersFromConfig', () => {
  let dir: string;
  let opened: Record<string, SecretProvider>[] = [];

  async function create(providers: unknown, env: NodeJS.ProcessEnv = {}) {
    const created = await createProvidersFromConfig(providersOf(providers), { env, baseDir: dir });
    opened.push(created);
    return created;
  }

  beforeEach(async () => {
    dir = await tempDir('esa-providers-');
  });

  afterEach(async () => {
    for (const set of opened.splice(0)) await Promise.all(Object.values(set).map((p) => p.close()));
    opened = [];
    await removeTempDir(dir);
  });

  it('creates the enabled providers keyed by name, skipping disabled ones', async () => {
    const created = await create({ file: { base_path: 'secrets' }, memory: { enabled: true }, vault: { enabled: false } });
    expect(Object.keys(created).sort()).toEqual(['file', 'memory']);
    expect(created.file.kind).toBe('file');
    expect(created.memory.kind).toBe('memory');
  });

  it('resolves a relative base_path against baseDir', async () => {
    const { file } = await create({ file: { base_path: 'secrets' } });
    await file.put('a/b', { v: 1 });
    await expect(fs.stat(path.join(dir, 'secrets', 'a', 'b.json'))).resolves.toBeTruthy();
  });

  it('passes lock_stale to the file provider as lockStaleMs (its range check applies)', async () => {
    const { file } = await create({ file: { base_path: 'locked', lock_stale: '2s' } });
    await file.put('a', { v: 1 });
    expect((await file.get('a'))?.data).toEqual({ v: 1 });
    const err = await create({ file: { base_path: 'locked', lock_stale: '500ms' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('lockStaleMs');
  });

  it('resolves an ${env:...} encryption key and encrypts with it', async () => {
    const { file } = await create({ file: { base_path: 'enc', encryption_key: '${env:ESA_KEY}' } }, { ESA_KEY: KEY });
    await file.put('db', { password: 'plain-text-password' });
    const raw = await fs.readFile(path.join(dir, 'enc', 'db.json'), 'utf8');
    expect(raw).not.toContain('plain-text-password');
    const sameKey = createFileProvider({ basePath: path.join(dir, 'enc'), encryptionKey: KEY });
    expect((await sameKey.get('db'))?.data).toEqual({ password: 'plain-text-password' });
  });

  it('fails with the reference named when an env variable is missing', async () => {
    const err = await create({ file: { base_path: 'enc', encryption_key: '${env:ESA_KEY_MISSING}' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretReferenceError);
    expect((err as Error).message).toContain('${env:ESA_KEY_MISSING}');
  });

  it('creates a provider after the one its options reference (a Vault token kept in a file)', async () => {
    await fs.mkdir(path.join(dir, 'plain', 'vault'), { recursive: true });
    await fs.writeFile(path.join(dir, 'plain', 'vault', 'token'), 'hvs.from-file');
    const created = await create({
      vault: { address: 'http://127.0.0.1:1', token: '{{ secret.file.vault/token.value }}', kv_version: 2 },
      file: { base_path: 'plain' },
    });
    expect(Object.keys(created).sort()).toEqual(['file', 'vault']);
    expect(created.vault.kind).toBe('vault');
  });

  it('fails, naming the reference, when a provider option points at an absent secret', async () => {
    const ref = '{{ secret.file.vault/absent.value }}';
    const err = await create({ vault: { address: 'http://127.0.0.1:1', token: ref }, file: { base_path: 'plain' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretReferenceError);
    expect((err as SecretReferenceError).reference).toBe(ref);
  });

  it('refuses references that form a cycle', async () => {
    const config = providersOf({
      memory: {},
      file: { base_path: 'x', encryption_key: '{{ secret.vault.keys/file.key }}' },
      vault: { address: 'http://127.0.0.1:1', token: '{{ secret.file.vault/token.value }}' },
    });
    const err = await createProvidersFromConfig(config, { env: {}, baseDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/secrets\.providers\.file, secrets\.providers\.vault: .*cycle/);
  });

  it('creates nothing when no provider is enabled', async () => {
    expect(await create({})).toEqual({});
  });
});

describe('vaultOptionsFromConfig', () => {
  it('maps token auth and the connection options', async () => {
    const options = await vaultOptionsFromConfig(vaultConfig({ mount: 'kv', kv_version: 'auto', namespace: 'team', token: 't0k', timeout: '2s', retries: 3 }));
    expect(options).toEqual({
      address: 'https://vault.example:8200',
      mount: 'kv',
      kvVersion: 'auto',
      namespace: 'team',
      auth: { method: 'token', token: 't0k' },
      tls: undefined,
      timeoutMs: 2000,
      retries: 3,
    });
  });

  it('defaults to token auth without a token (the provider then uses VAULT_TOKEN)', async () => {
    expect((await vaultOptionsFromConfig(vaultConfig({}))).auth).toEqual({ method: 'token', token: undefined });
  });

  it('maps approle auth', async () => {
    const options = await vaultOptionsFromConfig(vaultConfig({ auth_method: 'approle', role_id: 'r', secret_id: 's', auth_mount: 'approle-ci' }));
    expect(options.auth).toEqual({ method: 'approle', roleId: 'r', secretId: 's', mountPath: 'approle-ci' });
  });

  it('maps kubernetes auth', async () => {
    const options = await vaultOptionsFromConfig(vaultConfig({ auth_method: 'kubernetes', role: 'web', jwt_path: '/var/jwt', auth_mount: 'k8s' }));
    expect(options.auth).toEqual({ method: 'kubernetes', role: 'web', jwtPath: '/var/jwt', mountPath: 'k8s' });
  });

  describe('tls', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await tempDir('esa-tls-');
      await fs.writeFile(path.join(dir, 'ca.pem'), 'CA PEM');
      await fs.writeFile(path.join(dir, 'cert.pem'), 'CERT PEM');
      await fs.writeFile(path.join(dir, 'key.pem'), 'KEY PEM');
    });
    afterAll(async () => {
      await removeTempDir(dir);
    });

    it('reads the files (relative to baseDir) and maps skip_verify', async () => {
      const config = vaultConfig({ tls: { ca_file: 'ca.pem', cert_file: path.join(dir, 'cert.pem'), key_file: 'key.pem', skip_verify: true } });
      const { tls } = await vaultOptionsFromConfig(config, { baseDir: dir });
      expect(tls?.ca?.toString()).toBe('CA PEM');
      expect(tls?.cert?.toString()).toBe('CERT PEM');
      expect(tls?.key?.toString()).toBe('KEY PEM');
      expect(tls?.rejectUnauthorized).toBe(false);
    });

    it('verifies the server by default', async () => {
      const { tls } = await vaultOptionsFromConfig(vaultConfig({ tls: { ca_file: 'ca.pem' } }), { baseDir: dir });
      expect(tls?.rejectUnauthorized).toBe(true);
    });

    it('names the field of a file it cannot read', async () => {
      await expect(vaultOptionsFromConfig(vaultConfig({ tls: { ca_file: 'nope.pem' } }), { baseDir: dir })).rejects.toThrow(
        /secrets\.providers\.vault\.tls\.ca_file: cannot read "nope\.pem" \(ENOENT\)/,
      );
    });
  });
});
