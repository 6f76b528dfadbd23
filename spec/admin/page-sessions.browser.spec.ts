// The page's Sessions view in headless Chromium, on the file provider: an admin finds a user's
// sessions, ends one, then all; those browsers are signed out at once, other users are not; the
// strict CSP is never violated. Without the router's `sessions` option the view is not offered.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { createFileProvider } from '../../lib';
import { describeWith } from '../support/components';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { launch, listen, openPage, type Problems } from './browser';
import { makeAdminApp } from './helpers';
import { makeSessionApp } from './session-app';

describeWith('chromium', 'Sessions view of the admin page (Chromium)', () => {
  let dir: string;
  let s: Awaited<ReturnType<typeof makeSessionApp>>;
  let server: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: Problems;
  let alice: { cookie: string; key: string }[];
  let bob: { cookie: string; key: string };

  const rows = () => page.locator('#session-rows tr');
  const confirmEnd = async () => {
    await page.locator('#end-dialog[open]').waitFor();
    await page.click('#end-ok');
    await page.locator('#end-dialog[open]').waitFor({ state: 'detached' });
  };

  beforeAll(async () => {
    dir = await tempDir('admin-sessions-page-');
    s = await makeSessionApp({ provider: createFileProvider({ basePath: dir, fsync: false }) });
    alice = [await s.login('alice@example.com'), await s.login('alice@example.com'), await s.login('alice@example.com')];
    bob = await s.login('bob@example.com');
    server = await listen(s.t.app);
    browser = await launch();
    ({ context, page, problems } = await openPage(browser, server.url));
    await page.goto(`${server.url}${s.t.base}/ui`);
    await page.fill('#signin-token', s.t.adminToken);
    await page.keyboard.press('Enter');
    await page.locator('#sessions').waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await s?.store.close();
    await removeTempDir(dir);
  });

  test("finding a user lists that user's sessions by key, never a session id", async () => {
    await page.fill('#sessions-user', 'alice@example.com');
    await page.keyboard.press('Enter');
    await page.locator('#sessions-count').getByText('3 sessions of “alice@example.com”').waitFor();
    expect(await rows().count()).toBe(3);
    const shown = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(shown.sort()).toEqual(alice.map((a) => a.key).sort());
    const text = await page.textContent('#sessions');
    for (const a of alice) expect(text).not.toContain(decodeURIComponent(a.cookie.split('=')[1]).slice(2).split('.')[0]);
    expect(await page.locator('#end-all').isVisible()).toBe(true);
  });

  test('ending one session signs that browser out and leaves the others', async () => {
    await page.click(`#session-rows tr[data-key="${alice[0].key}"] button`);
    await page.locator('#end-title').getByText('End this session?').waitFor();
    await confirmEnd();
    await page.locator('#sessions-count').getByText('2 sessions of “alice@example.com”').waitFor();
    expect(await s.whoami(alice[0].cookie)).toBeNull();
    expect(await s.whoami(alice[1].cookie)).toBe('alice@example.com');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('sessions-title');
  });

  test('"End all sessions" asks first (Cancel ends nothing), then signs every browser of the user out', async () => {
    await page.click('#end-all');
    await page.locator('#end-title').getByText('End all sessions of “alice@example.com”?').waitFor();
    await page.locator('#end-dialog [data-close]').click();
    await page.locator('#end-dialog[open]').waitFor({ state: 'detached' });
    expect(await s.whoami(alice[1].cookie)).toBe('alice@example.com');

    await page.click('#end-all');
    await confirmEnd();
    await page.locator('#sessions-empty').getByText('“alice@example.com” has no active sessions.').waitFor();
    for (const a of alice) expect(await s.whoami(a.cookie)).toBeNull();
    expect(await s.whoami(bob.cookie)).toBe('bob@example.com');
    expect(await page.locator('#end-all').isHidden()).toBe(true);
    expect(await page.textContent('#status')).toBe('Ended 2 sessions of alice@example.com.');
  });

  test('a refused lookup is said under the form; no console error, page error or CSP violation', async () => {
    await page.fill('#sessions-user', '');
    await page.click('#sessions-form button[type="submit"]');
    await page.locator('#sessions-error').getByText('Enter a user id.').waitFor();
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
  });

  test('without the `sessions` option the page does not offer the view', async () => {
    const plain = await makeAdminApp();
    const html = (await request(plain.app).get(`${plain.base}/ui`)).text;
    expect(html).toContain('data-sessions="false"');
    expect((await request(s.t.app).get(`${s.t.base}/ui`)).text).toContain('data-sessions="true"');
  });
});
