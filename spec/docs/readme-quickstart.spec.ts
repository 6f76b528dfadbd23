// README "Quick start", copied verbatim into app.mjs of a project that installed the packed
// tarball, run with node as a user would: first and second start, the port taken, SECRETS_KEY
// or not, SIGTERM.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Booted, boot, exitCode, freePort, stackOrPaths, takenPort, waitFor } from '../demo/boot';
import { type Consumer, packedConsumer, ROOT } from '../package/consumer';
import { readmeBlock } from './readme-blocks';
import { sleep } from '../support/sleep';
import { removeTempDir } from '../support/temp-dir';

const TOKEN = /admin token \(shown once\): (esa_\S+)/;
const WARNING = 'SECRETS_KEY is not set: sessions and token hashes are stored as plain JSON files in ./.data/secrets';

describe('README Quick start (app.mjs), run verbatim against the packed package', () => {
  let consumer: Consumer;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ VAULT_ADDR: '', VAULT_TOKEN: '', SECRETS_KEY: '', SESSION_SECRET: 'spec', ...extra });
  const start = (port: number, extra: NodeJS.ProcessEnv = {}): Booted => boot(['app.mjs'], env({ PORT: String(port), ...extra }), consumer.dir);
  const files = async () => {
    const entries = await readdir(join(consumer.dir, '.data', 'secrets'), { recursive: true, withFileTypes: true });
    return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')));
  };

  beforeAll(async () => {
    consumer = await packedConsumer();
    await writeFile(join(consumer.dir, 'app.mjs'), readmeBlock('quick-start'));
  }, 120_000);
  afterAll(async () => {
    if (consumer) await removeTempDir(consumer.dir);
  });
  beforeEach(async () => {
    await rm(join(consumer.dir, '.data'), { recursive: true, force: true });
  });

  test('port taken: one clear line and exit 1, no stack; no admin token is made, so the next start prints it', async () => {
    const held = await takenPort();
    try {
      const taken = start(held.port);
      expect(await exitCode(taken)).toBe(1);
      expect(taken.output()).toContain(`Port ${held.port} is in use; set PORT=<a free port>.`);
      expect(taken.output()).not.toMatch(TOKEN);
      expect(stackOrPaths(taken.output(), ROOT)).toEqual([]);
    } finally {
      await held.release();
    }
    const port = await freePort();
    const next = start(port);
    try {
      await waitFor(next, TOKEN);
    } finally {
      await next.stop();
    }
  }, 60_000);

  test('first start warns about plain files and prints one admin token that works; a second start prints none; SIGTERM ends it', async () => {
    const port = await freePort();
    const first = start(port);
    let token: string;
    try {
      await waitFor(first, /listening on/);
      [, token] = await waitFor(first, TOKEN);
      expect(first.output()).toContain(WARNING);
      const url = `http://localhost:${port}`;
      const auth = { headers: { Authorization: `Bearer ${token}` } };
      expect(await (await fetch(`${url}/api/hello`, auth)).json()).toEqual({ hello: 'first-admin' });
      expect((await fetch(`${url}/api/hello`)).status).toBe(401);
      const list = await fetch(`${url}/admin/auth/tokens`, auth);
      expect(list.status).toBe(200);
      const page = await fetch(`${url}/admin/auth/ui`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await exitCode(first, 10_000)).toBe(0);
    expect((await files()).some((text) => text.includes('credential_hash'))).toBe(true); // plain JSON, as warned

    const second = start(port);
    try {
      await waitFor(second, /listening on/);
      await sleep(500); // a token would be printed right after
      expect(second.output()).not.toMatch(TOKEN);
      expect((await fetch(`http://localhost:${port}/api/hello`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 60_000);

  test('with SECRETS_KEY: no warning and every file is encrypted', async () => {
    const port = await freePort();
    const run = start(port, { SECRETS_KEY: 'an operator passphrase for the spec' });
    try {
      await waitFor(run, TOKEN);
      expect(run.output()).not.toContain('SECRETS_KEY is not set');
    } finally {
      await run.stop();
    }
    const texts = await files();
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(JSON.parse(text)).toHaveProperty('sealed');
  }, 60_000);
});
