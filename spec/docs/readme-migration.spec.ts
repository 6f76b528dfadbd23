// README "Migrating from connect-redis": its app (migrate.mjs) copied verbatim into a project that
// installed the packed tarball, run on the file provider and on OpenBao: base64 genid ids with "/"
// and "+" work, and the connect-mongo events it listens to fire.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeWith } from '../support/components';
import { sharedVault } from '../support/vault';
import { boot, exitCode, freePort } from '../demo/boot';
import { type Consumer, packedConsumer } from '../package/consumer';
import { readmeBlock } from './readme-blocks';
import { sleep } from '../support/sleep';
import { removeTempDir } from '../support/temp-dir';

let consumer: Consumer;
beforeAll(async () => {
  consumer = await packedConsumer();
  await writeFile(join(consumer.dir, 'migrate.mjs'), readmeBlock('migration'));
}, 120_000);
afterAll(async () => {
  if (consumer) await removeTempDir(consumer.dir);
});

async function run(env: NodeJS.ProcessEnv): Promise<void> {
  const port = await freePort();
  const app = boot(['migrate.mjs'], { SESSION_SECRET: 'spec', SECRETS_KEY: '', PORT: String(port), ...env }, consumer.dir);
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 20_000;
    while (
      !(await fetch(`${url}/me`).then(
        () => true,
        () => false,
      ))
    ) {
      if (app.child.exitCode !== null || Date.now() > deadline) throw new Error(`migrate.mjs did not start:\n${app.output()}`);
      await sleep(100);
    }
    let slashOrPlus = 0;
    for (let i = 0; i < 20; i++) {
      const login = await fetch(`${url}/login`, { method: 'POST' });
      expect(await login.text()).toBe('signed in');
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const sid = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 3)).replace(/\.[^.]*$/, '');
      if (/[/+]/.test(sid)) slashOrPlus++;
      expect(await (await fetch(`${url}/me`, { headers: { cookie } })).json()).toMatchObject({ user: 'alice' });
      expect(await (await fetch(`${url}/logout`, { method: 'POST', headers: { cookie } })).text()).toBe('signed out');
      expect(await (await fetch(`${url}/me`, { headers: { cookie } })).json()).not.toHaveProperty('user');
    }
    expect(slashOrPlus).toBeGreaterThan(0);
    const count = (what: string) => app.output().split(what).length - 1;
    for (let i = 0; i < 100 && count('session destroyed') < 20; i++) await sleep(50);
    expect(count('session destroyed')).toBe(20);
    expect(app.output().match(/session created/g)).toHaveLength(20);
  } finally {
    app.child.kill('SIGTERM');
  }
  expect(await exitCode(app, 10_000)).toBe(0);
}

describe('README migration example (migrate.mjs), run verbatim', () => {
  test('on the file provider: sessions with base64 ids, create/destroy events, SIGTERM ends it', () => run({ VAULT_ADDR: '', VAULT_TOKEN: '' }), 60_000);
});

describeWith('openbao', 'README migration example on OpenBao', () => {
  test('with VAULT_ADDR and VAULT_TOKEN set: the same', () => {
    const vault = sharedVault();
    return run({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token });
  }, 60_000);
});
