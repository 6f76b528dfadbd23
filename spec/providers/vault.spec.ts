import { createServer, type Server } from 'node:net';
import { BackendError, BackendUnavailableError, ConfigError, createVaultProvider, PermissionDeniedError, type VaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import {
  baoRequest,
  createToken,
  enableAppRole,
  enableKvV2,
  freePort,
  type PersistentServer,
  startDevServer,
  startPersistentServer,
  writePolicy,
} from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { sleep } from '../support/sleep';

describe('vault provider options', () => {
  test('bad options are refused at construction with a clear ConfigError', () => {
    const auth = { method: 'token' as const, token: 't' };
    expect(() => createVaultProvider({ address: 'not a url', auth })).toThrow(ConfigError);
    expect(() => createVaultProvider({ address: 'http://x', auth, retries: -1 })).toThrow(/retries/);
    expect(() => createVaultProvider({ address: 'http://x', auth, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createVaultProvider({ address: 'http://x', auth: { method: 'token' } }, {})).toThrow(/VAULT_TOKEN/);
    expect(() => createVaultProvider({ address: 'http://x', auth: { method: 'approle' } }, {})).toThrow(/VAULT_ROLE_ID/);
    expect(() => createVaultProvider({ address: 'http://x', mount: '../sys', auth })).toThrow(/Invalid secret path/);
    expect(() => createVaultProvider({ address: 'http://x', addresses: ['http://y'], auth })).toThrow(/not both/);
    expect(() => createVaultProvider({ addresses: [], auth })).toThrow(/at least one/);
    expect(() => createVaultProvider({ addresses: ['http://a', 'ftp://b'], auth })).toThrow(/addresses/);
    expect(() => createVaultProvider({ addresses: ['http://a', 'http://a/'], auth })).toThrow(/twice/);
    expect(() => createVaultProvider({ address: 'http://x', auth, consistency: 'weak' as never })).toThrow(/consistency/);
    expect(() => createVaultProvider({ address: 'http://x', auth, failoverBudgetMs: -1 })).toThrow(/failoverBudgetMs/);
  });

  test('address, token and namespace fall back to VAULT_ADDR / VAULT_TOKEN', () => {
    const provider = createVaultProvider({}, { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: 't' });
    expect(provider.kind).toBe('vault');
  });
});

describeWith('openbao', 'vault provider against OpenBao', () => {
  let address: string;
  let root: string;
  const providers: VaultProvider[] = [];
  const make = (opts: Parameters<typeof createVaultProvider>[0]) => {
    const p = createVaultProvider({ address, ...opts });
    providers.push(p);
    return p;
  };

  beforeAll(() => {
    ({ address, token: root } = sharedVault());
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
  });

  test('a token restricted by policy gets PermissionDeniedError on a denied path, and no retries', async () => {
    const prefix = uniquePrefix('policy');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/allowed/*" { capabilities = ["create", "read", "update"] }`);
    const token = await createToken(address, root, [prefix]);
    const provider = make({ auth: { method: 'token', token } });
    await provider.put(`${prefix}/allowed/x`, { v: 1 });
    expect((await provider.get(`${prefix}/allowed/x`))?.data).toEqual({ v: 1 });

    const before = provider.requestCount;
    const err = await provider.get(`${prefix}/denied/x`).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as Error).message).toContain(`${prefix}/denied/x`);
    expect((err as Error).message).not.toContain(token);
    expect(provider.requestCount - before).toBe(1);
    await expect(provider.put(`${prefix}/denied/x`, { v: 1 })).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  test('AppRole: logs in with role_id/secret_id and reads and writes', async () => {
    const prefix = uniquePrefix('approle');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }`);
    const creds = await enableAppRole(address, root, { policies: [prefix], mountPath: uniquePrefix('ar') });
    const provider = make({ auth: { method: 'approle', roleId: creds.role_id, secretId: creds.secret_id, mountPath: creds.mount_path } });
    await provider.put(`${prefix}/k`, { v: 'via approle' });
    expect((await provider.get(`${prefix}/k`))?.data).toEqual({ v: 'via approle' });
  });

  test('AppRole credentials come from VAULT_ROLE_ID / VAULT_SECRET_ID; wrong ones fail clearly without echoing them', async () => {
    const prefix = uniquePrefix('approle-env');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/*" { capabilities = ["read"] }`);
    const creds = await enableAppRole(address, root, { policies: [prefix], mountPath: uniquePrefix('ar') });
    const env = { VAULT_ROLE_ID: creds.role_id, VAULT_SECRET_ID: creds.secret_id };
    const ok = createVaultProvider({ address, auth: { method: 'approle', mountPath: creds.mount_path } }, env);
    providers.push(ok);
    await expect(ok.get(`${prefix}/absent`)).resolves.toBeNull();

    const bad = make({ auth: { method: 'approle', roleId: creds.role_id, secretId: 'wrong-secret-id-value', mountPath: creds.mount_path } });
    const err = await bad.get(`${prefix}/absent`).catch((e: Error) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toContain('log in');
    expect((err as Error).message).not.toContain('wrong-secret-id-value');
  });

  test('AppRole: logs in again when the token can no longer be renewed, without failing a request', async () => {
    const prefix = uniquePrefix('relogin');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }`);
    const creds = await enableAppRole(address, root, { policies: [prefix], mountPath: uniquePrefix('ar'), tokenTtl: '2s' });
    await baoRequest(address, root, 'POST', `auth/${creds.mount_path}/role/${creds.role_name}`, { token_ttl: '2s', token_max_ttl: '3s' });
    const provider = make({ auth: { method: 'approle', roleId: creds.role_id, secretId: creds.secret_id, mountPath: creds.mount_path } });
    await provider.put(`${prefix}/k`, { v: 1 });
    const deadline = Date.now() + 5_000;
    let reads = 0;
    while (Date.now() < deadline) {
      expect((await provider.get(`${prefix}/k`))?.data).toEqual({ v: 1 });
      reads++;
      await sleep(100);
    }
    expect(reads).toBeGreaterThan(20);
  });

  test('AppRole: a revoked token under concurrent load costs one login, not one per request', async () => {
    const prefix = uniquePrefix('storm');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }`);
    const creds = await enableAppRole(address, root, { policies: [prefix], mountPath: uniquePrefix('ar') });
    const provider = make({ auth: { method: 'approle', roleId: creds.role_id, secretId: creds.secret_id, mountPath: creds.mount_path } });
    await provider.put(`${prefix}/k`, { v: 1 });
    const revoked = await baoRequest(address, root, 'PUT', `sys/leases/revoke-prefix/auth/${creds.mount_path}/login`);
    expect(revoked.status).toBe(204);
    const before = provider.requestCount;
    const results = await Promise.all(Array.from({ length: 20 }, () => provider.get(`${prefix}/k`)));
    expect(results.every((r) => r?.data.v === 1)).toBe(true);
    // 20 refused reads + 1 login + 20 retried reads (one login per failed request would be 60)
    expect(provider.requestCount - before).toBe(41);
  });

  test('a renewable token with a short TTL is renewed before it expires', async () => {
    const prefix = uniquePrefix('renew');
    await writePolicy(address, root, prefix, `path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }`);
    const token = await createToken(address, root, [prefix, 'default'], { ttl: '2s' });
    const provider = make({ auth: { method: 'token', token } });
    await provider.put(`${prefix}/k`, { v: 1 });
    await sleep(3_500);
    expect((await provider.get(`${prefix}/k`))?.data).toEqual({ v: 1 });
  });

  test("KV v2: a write is one request (no per-key metadata); the mount's max_versions bounds the history", async () => {
    const prefix = uniquePrefix('maxv');
    const provider = make({ auth: { method: 'token', token: root } });
    await provider.get(`${prefix}/warm-up`); // the first call also looks the token up and reads secret/config once
    const before = provider.requestCount;
    await provider.put(`${prefix}/s`, { n: 1 }, { maxVersions: 1 });
    await provider.put(`${prefix}/s`, { n: 2 }, { maxVersions: 1 });
    await provider.put(`${prefix}/s`, { n: 3 }, { maxVersions: 1 });
    expect(provider.requestCount - before).toBe(3);
    const meta = await baoRequest<{ data: { versions: Record<string, unknown> } }>(address, root, 'GET', `secret/metadata/${prefix}/s`);
    expect(Object.keys(meta.body?.data.versions ?? {})).toEqual(['3']); // global setup: secret/config max_versions 1
  });

  test('KV v2: a mount that keeps more than one version, or whose config cannot be read, warns once (ESA_VAULT_MAX_VERSIONS) and works', async () => {
    const mount = uniquePrefix('kv2-default');
    await enableKvV2(address, root, mount);
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const provider = make({ mount, auth: { method: 'token', token: root } });
      await provider.put('a', { v: 1 });
      await provider.put('b', { v: 1 });
      const other = make({ mount, auth: { method: 'token', token: root } });
      await other.get('a');
      const policy = uniquePrefix('no-config');
      await writePolicy(address, root, policy, `path "${mount}/data/*" { capabilities = ["read"] }`);
      const limited = make({ mount, auth: { method: 'token', token: await createToken(address, root, [policy]) } });
      expect((await limited.get('a'))?.data).toEqual({ v: 1 });
      const mine = emitted.mock.calls
        .map(([message, opts]) => ({ message: String(message), code: (opts as { code?: string } | undefined)?.code }))
        .filter((w) => w.message.includes(`"${mount}`));
      expect(mine.map((w) => w.code)).toEqual(['ESA_VAULT_MAX_VERSIONS', 'ESA_VAULT_MAX_VERSIONS']);
      expect(mine[0]?.message).toMatch(/default \(10\) versions.*max_versions=1/);
      expect(mine[1]?.message).toMatch(/cannot read ".*\/config".*policy does not grant it/);
    } finally {
      emitted.mockRestore();
    }
  });

  test('KV v2: delete leaves no metadata behind', async () => {
    const prefix = uniquePrefix('nometa');
    const provider = make({ auth: { method: 'token', token: root } });
    await provider.put(`${prefix}/s`, { n: 1 });
    await provider.delete(`${prefix}/s`);
    expect((await baoRequest(address, root, 'GET', `secret/metadata/${prefix}/s`)).status).toBe(404);
  });

  test('path segments are URL-encoded on the wire', async () => {
    const prefix = uniquePrefix('enc');
    const provider = make({ auth: { method: 'token', token: root } });
    await provider.put(`${prefix}/sess:a+b=c@d`, { v: 1 });
    const raw = await baoRequest<{ data: { data: unknown } }>(address, root, 'GET', `secret/data/${prefix}/sess%3Aa%2Bb%3Dc%40d`);
    expect(raw.body?.data.data).toEqual({ v: 1 });
  });

  test('namespace: secrets live in the namespace (X-Vault-Namespace), not in the root one', async () => {
    const ns = uniquePrefix('ns');
    expect((await baoRequest(address, root, 'POST', `sys/namespaces/${ns}`, {})).status).toBe(200);
    const mounted = await fetch(`${address}/v1/sys/mounts/secret`, {
      method: 'POST',
      headers: { 'X-Vault-Token': root, 'X-Vault-Namespace': ns, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'kv', options: { version: '2' } }),
    });
    expect(mounted.status).toBe(204);
    const inNamespace = make({ auth: { method: 'token', token: root }, namespace: ns });
    const inRoot = make({ auth: { method: 'token', token: root } });
    const path = `${uniquePrefix('nskey')}/k`;
    await inNamespace.put(path, { v: 'namespaced' });
    expect((await inNamespace.get(path))?.data).toEqual({ v: 'namespaced' });
    await expect(inRoot.get(path)).resolves.toBeNull();
  });

  test('kvVersion auto detects a KV v2 mount', async () => {
    const mount = uniquePrefix('kv2');
    await enableKvV2(address, root, mount);
    const provider = make({ auth: { method: 'token', token: root }, mount, kvVersion: 'auto' });
    await expect(provider.kvVersion()).resolves.toBe(2);
  });

  test('a stopped server gives BackendUnavailableError within the timeout, not a hang', async () => {
    const server = await startDevServer();
    const provider = make({ address: server.address, auth: { method: 'token', token: server.rootToken }, timeoutMs: 500, retries: 1 });
    await provider.put('k', { v: 1 });
    await server.stop();
    const started = Date.now();
    const err = await provider.get('k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/Cannot reach Vault/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a server that accepts connections but never answers times out into BackendUnavailableError', async () => {
    const port = await freePort();
    const sockets: import('node:net').Socket[] = [];
    const blackHole: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackHole.listen(port, '127.0.0.1', r));
    try {
      const provider = make({ address: `http://127.0.0.1:${port}`, auth: { method: 'token', token: 't' }, timeoutMs: 300, retries: 1 });
      const started = Date.now();
      const err = await provider.get('k').catch((e: Error) => e);
      const elapsed = Date.now() - started;
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toMatch(/did not answer within 300 ms/);
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  });
});

describeWith('openbao', 'vault provider against a sealed OpenBao', () => {
  let server: PersistentServer;
  afterAll(async () => {
    await server?.destroy();
  });

  test('sealed: BackendUnavailableError that says so; works again after unseal', async () => {
    server = await startPersistentServer();
    const { rootToken } = await server.init();
    await server.unseal();
    await enableKvV2(server.address, rootToken, 'secret');
    const provider = createVaultProvider({ address: server.address, auth: { method: 'token', token: rootToken }, timeoutMs: 2_000, retries: 0 });
    try {
      await provider.put('k', { v: 'before seal' });
      await server.seal();
      const err = await provider.get('k').catch((e: Error) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toMatch(/sealed/);
      await server.unseal();
      expect((await provider.get('k'))?.data).toEqual({ v: 'before seal' });
    } finally {
      await provider.close();
    }
  }, 60_000);
});
