// The demo in headless Chromium, booted as a child process: sign in through the form (the browser
// sends the CSRF field and its Origin itself), follow the link to the token page, sign out; and a
// cross-site page cannot sign the user out.
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import express from 'express';
import { launch, listen, openPage } from '../admin/browser';
import { describeWith } from '../support/components';
import { type Booted, boot, waitFor } from './boot';
import { removeTempDir, tempDir } from '../support/temp-dir';

const SERVER = resolve(__dirname, '..', '..', 'demo-app', 'server.js');

/** Signs in on the demo's home page as the demo user and waits for the greeting. */
async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User name').fill('demo');
  await page.getByLabel('Password').fill('demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Hello, Demo Operator' }).waitFor();
}

describeWith('chromium', 'demo app in Chromium', () => {
  let dir: string;
  let demo: Booted;
  let url: string;
  let browser: Browser;
  beforeAll(async () => {
    dir = await tempDir('esa-demo-browser-');
    demo = boot([SERVER, '--port', '0'], { DEMO_DATA_DIR: dir, VAULT_ADDR: '', VAULT_TOKEN: '', SECRETS_KEY: '', PORT: '' });
    [, , url] = await waitFor(demo, /demo on (\w+): (http:\/\/\S+)/);
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await removeTempDir(dir);
  });

  test('sign in, reach the token page from the home page, sign out; no CSP or console problems', async () => {
    const { context, page, problems } = await openPage(browser, url);
    try {
      await signIn(page, url);
      await page.getByRole('link', { name: 'Manage API tokens' }).click();
      await page.waitForURL(`${url}/api/v2/auth/ui`);
      expect((await page.request.get(`${url}/api/v2/auth/tokens`)).status()).toBe(200); // the session's cookie
      await page.goto(url);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(problems.csp).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  test('a page on another origin that posts to /logout does not sign the user out', async () => {
    const { context, page } = await openPage(browser, url);
    const evil = express();
    evil.get('/', (_req, res) =>
      res
        .type('html')
        .send(
          `<form id="f" method="post" action="${url}/logout"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`,
        ),
    );
    const attacker = await listen(evil);
    try {
      await signIn(page, url);
      // 127.0.0.1 vs localhost: another origin (and another site for the browser)
      const response = page.waitForResponse(`${url}/logout`);
      await page.goto(attacker.url.replace('127.0.0.1', 'localhost'));
      expect((await response).status()).toBe(403);
      await page.goto(url);
      await page.getByRole('heading', { name: 'Hello, Demo Operator' }).waitFor();
    } finally {
      await attacker.close();
      await context.close();
    }
  }, 60_000);
});
