// README "Configuration file" example and the `createAuthFromConfig` steps, copied verbatim into a
// project that installed the packed tarball: the YAML as auth.yml, the shell steps run with sh
// (creating the `ci/token` secret, an admin token with the CLI), then server.mjs.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { boot, exitCode, freePort } from '../demo/boot';
import { type Consumer, packedConsumer } from '../package/consumer';
import { readmeBlock } from './readme-blocks';
import { sleep } from '../support/sleep';
import { removeTempDir } from '../support/temp-dir';

describe('README config example (auth.yml + createAuthFromConfig), run verbatim against the packed package', () => {
  let consumer: Consumer;
  const env = { ...process.env, VAULT_TOKEN: '', VAULT_ADDR: '', SESSION_SECRET: 'spec', npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  const sh = (script: string) => execFileSync('sh', ['-e', '-c', script], { cwd: consumer.dir, env, encoding: 'utf8', stdio: 'pipe' });

  beforeAll(async () => {
    consumer = await packedConsumer();
    await writeFile(join(consumer.dir, 'auth.yml'), readmeBlock('auth-yml'));
    await writeFile(join(consumer.dir, 'server.mjs'), readmeBlock('config-app'));
  }, 120_000);
  afterAll(async () => {
    if (consumer) await removeTempDir(consumer.dir);
  });

  test('the ci/token secret, an admin token from the CLI, then the app: tokens work where the README says; SIGTERM ends it', async () => {
    sh(readmeBlock('ci-token-secret'));
    const ciToken = (await readFile(join(consumer.dir, '.data', 'secrets', 'ci', 'token'), 'utf8')).trim();
    expect(ciToken.length).toBeGreaterThanOrEqual(32);
    const created = sh(readmeBlock('first-admin-cli'));
    const adminToken = /(esa_[A-Za-z0-9_]+)/.exec(created)?.[1] as string;
    expect(adminToken).toBeDefined();

    const port = await freePort();
    const app = boot(['server.mjs'], { ...env, PORT: String(port) }, consumer.dir);
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (app.child.exitCode !== null) throw new Error(`server.mjs exited:\n${app.output()}`);
        const up = await fetch(`${url}/api/things`).then(
          () => true,
          () => false,
        );
        if (up) break;
        if (Date.now() > deadline) throw new Error(`server.mjs did not listen:\n${app.output()}`);
        await sleep(100);
      }
      const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
      expect(await (await fetch(`${url}/api/things`, as(ciToken))).json()).toEqual({ for: 'CI Pipeline Token' });
      expect((await fetch(`${url}/api/things`)).status).toBe(401);
      // the admin router is mounted before the /api guard: an admin token (no "read" scope) reaches it
      const tokens = await fetch(`${url}/api/v2/auth/tokens`, as(adminToken));
      expect(tokens.status).toBe(200);
      expect(JSON.stringify(await tokens.json())).toContain('first-admin');
      const page = await fetch(`${url}/api/v2/auth/ui`, as(adminToken));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      // the CI token is not an admin
      expect((await fetch(`${url}/api/v2/auth/tokens`, as(ciToken))).status).toBe(403);
      expect(app.output()).not.toContain(ciToken);
      expect(app.output()).not.toContain(adminToken);
    } finally {
      app.child.kill('SIGTERM');
    }
    expect(await exitCode(app, 10_000)).toBe(0);
  }, 90_000);
});
