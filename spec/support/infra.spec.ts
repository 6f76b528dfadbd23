// Proves the test support works against the real components.
import { createClient } from 'redis';
import { chromium } from 'playwright-core';
import { chromiumPath, describeWith, REDIS_URL } from './components';
import {
  appRoleLogin,
  baoRequest,
  createToken,
  enableAppRole,
  enableKvV1,
  type PersistentServer,
  startDevServer,
  startPersistentServer,
  writePolicy,
} from './openbao';
import { sharedVault, uniquePrefix } from './vault';

describeWith('openbao', 'shared OpenBao dev server', () => {
  test('globalSetup hands address and token to specs through the environment', async () => {
    const { address, token } = sharedVault();
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await baoRequest<{ initialized: boolean; sealed: boolean }>(address, undefined, 'GET', 'sys/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ initialized: true, sealed: false });
    const self = await baoRequest<{ data: { policies: string[] } }>(address, token, 'GET', 'auth/token/lookup-self');
    expect(self.body?.data.policies).toContain('root');
  });

  test('uniquePrefix gives distinct, path-safe segments', () => {
    const a = uniquePrefix('my spec / case #1');
    const b = uniquePrefix('my spec / case #1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9._:@+=-]+$/);
  });

  test('enableKvV1 mounts a version 1 KV engine', async () => {
    const { address, token } = sharedVault();
    const mount = uniquePrefix('kv1');
    await enableKvV1(address, token, mount);
    const ui = await baoRequest<{ data: { options: { version: string } } }>(address, token, 'GET', `sys/internal/ui/mounts/${mount}`);
    expect(ui.body?.data.options.version).toBe('1');
    expect((await baoRequest(address, token, 'POST', `${mount}/a/b`, { x: 1 })).status).toBe(204);
    const read = await baoRequest<{ data: unknown }>(address, token, 'GET', `${mount}/a/b`);
    expect(read.body?.data).toEqual({ x: 1 });
  });

  test('a restricted-policy token gets 403 outside its policy', async () => {
    const { address, token } = sharedVault();
    const prefix = uniquePrefix('policy');
    const policy = uniquePrefix('reader');
    await writePolicy(address, token, policy, `path "secret/data/${prefix}/*" { capabilities = ["read", "create", "update"] }`);
    const limited = await createToken(address, token, [policy]);
    const allowed = await baoRequest(address, limited, 'POST', `secret/data/${prefix}/ok`, { data: { v: 1 } });
    expect(allowed.status).toBe(200);
    const denied = await baoRequest<{ errors: string[] }>(address, limited, 'GET', `secret/data/${prefix}-other/x`);
    expect(denied.status).toBe(403);
    expect(denied.body?.errors.join(' ')).toMatch(/permission denied/);
  });

  test('AppRole login returns a client token carrying the role policies', async () => {
    const { address, token } = sharedVault();
    const policy = uniquePrefix('approle-policy');
    await writePolicy(address, token, policy, 'path "secret/data/x" { capabilities = ["read"] }');
    const creds = await enableAppRole(address, token, { policies: [policy] });
    expect(creds.role_id).toMatch(/\S/);
    const clientToken = await appRoleLogin(address, creds);
    const self = await baoRequest<{ data: { policies: string[] } }>(address, clientToken, 'GET', 'auth/token/lookup-self');
    expect(self.status).toBe(200);
    expect(self.body?.data.policies).toContain(policy);
    // A second role on the same (existing) mount works too.
    const again = await enableAppRole(address, token, { policies: [policy] });
    expect(await appRoleLogin(address, again)).not.toBe(clientToken);
  });
});

describeWith('openbao', 'own OpenBao servers', () => {
  test('startDevServer starts a healthy server and stop() ends it', async () => {
    const server = await startDevServer();
    try {
      expect((await baoRequest(server.address, undefined, 'GET', 'sys/health')).status).toBe(200);
    } finally {
      await server.stop();
    }
    await expect(fetch(`${server.address}/v1/sys/health`)).rejects.toThrow();
  });

  let persistent: PersistentServer | undefined;
  afterAll(async () => {
    await persistent?.destroy();
  });

  test('persistent server: init, unseal, seal, restart keeps data and comes back sealed', async () => {
    persistent = await startPersistentServer();
    const { address } = persistent;
    expect((await baoRequest(address, undefined, 'GET', 'sys/health')).status).toBe(501); // not initialised
    const { rootToken, unsealKey } = await persistent.init();
    expect(rootToken).toMatch(/\S/);
    expect(unsealKey).toMatch(/\S/);
    expect((await baoRequest(address, undefined, 'GET', 'sys/health')).status).toBe(503); // sealed
    await persistent.unseal();
    await enableKvV1(address, rootToken, 'kv');
    expect((await baoRequest(address, rootToken, 'POST', 'kv/persisted', { v: 'yes' })).status).toBe(204);

    await persistent.seal();
    const sealed = await baoRequest<{ errors: string[] }>(address, rootToken, 'GET', 'kv/persisted');
    expect(sealed.status).toBe(503);
    expect(sealed.body?.errors).toContain('Vault is sealed');
    await persistent.unseal();

    await persistent.restart();
    expect((await baoRequest(address, undefined, 'GET', 'sys/health')).status).toBe(503);
    await persistent.unseal();
    const read = await baoRequest<{ data: unknown }>(address, rootToken, 'GET', 'kv/persisted');
    expect(read.body?.data).toEqual({ v: 'yes' });
  });
});

describeWith('redis', 'Redis', () => {
  test('answers PING', async () => {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.destroy();
    }
  });
});

describeWith('chromium', 'Chromium', () => {
  test('launches headless through playwright-core', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath()!, headless: true });
    try {
      const page = await browser.newPage();
      await page.setContent('<h1>ok</h1>');
      expect(await page.textContent('h1')).toBe('ok');
    } finally {
      await browser.close();
    }
  });
});
