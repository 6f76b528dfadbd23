// The token page in headless Chromium against a test app on the file provider: sign in, create a
// token and copy it, use it, rotate it, revoke it, see it refused; CSP present and never violated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { UI_CSP } from '../../lib/admin/ui';
import { createFileProvider } from '../../lib/providers/file';
import { parseToken } from '../../lib/tokens/format';
import { describeWith } from '../support/components';
import { launch, listen, openPage, type Problems } from './browser';
import { type AdminApp, makeAdminApp } from './helpers';

// Screenshots go to docs/ only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
const DOCS = resolve(__dirname, '..', '..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs' : '.cache/docs');

describeWith('chromium', 'token admin page (Chromium)', () => {
  let dir: string;
  let t: AdminApp;
  let server: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: Problems;
  let created = '';
  let rotated = '';

  const ui = () => `${server.url}${t.base}/ui`;
  const row = (name: string) => page.locator('#token-rows tr', { has: page.locator('.tok-name', { hasText: new RegExp(`^${name}$`) }) });
  const useFromNode = async (token: string) => (await fetch(`${server.url}/api/data`, { headers: { Authorization: `Bearer ${token}` } })).status;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'admin-page-'));
    t = await makeAdminApp({ provider: createFileProvider({ basePath: dir, fsync: false }), router: { maxTtl: '365d' } });
    server = await listen(t.app);
    browser = await launch();
    ({ context, page, problems } = await openPage(browser, server.url));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page is served with the strict CSP and asks for an admin token', async () => {
    const res = await page.goto(ui());
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(UI_CSP);
    await page.locator('#signin-token').waitFor();
    expect(await page.locator('#tokens').isHidden()).toBe(true);
  });

  test('a wrong token is refused in the page; the admin token signs in (sessionStorage only)', async () => {
    await page.fill('#signin-token', 'esa_not_a_real_token');
    await page.keyboard.press('Enter');
    await page.locator('#signin-error').getByText('invalid, expired or revoked').waitFor();
    problems.console = problems.console.filter((m) => !m.includes('status of 401')); // the refused sign-in above
    await page.fill('#signin-token', t.adminToken);
    await page.keyboard.press('Enter');
    await row('root-admin').waitFor();
    await row('deploy-bot').getByText('Managed in config').waitFor();
    expect(await page.textContent('#who-name')).toBe('root-admin');
    const storage = await page.evaluate<{ session: string[]; local: number; url: string }>(
      '({ session: Object.values(sessionStorage), local: localStorage.length, url: location.href })',
    );
    expect(storage.session).toEqual([t.adminToken]);
    expect(storage.local).toBe(0);
    expect(storage.url).not.toContain(t.adminToken);
  });

  test('keyboard: the create dialog opens with Enter, focuses the name, closes with Escape', async () => {
    await page.focus('#new-token');
    await page.keyboard.press('Enter');
    await page.locator('#create-dialog[open]').waitFor();
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('create-name');
    await page.keyboard.press('Escape');
    await page.locator('#create-dialog[open]').waitFor({ state: 'detached' });
  });

  test('server-side validation errors are shown in the dialog', async () => {
    await page.click('#new-token');
    await page.fill('#create-name', 'broken');
    await page.fill('#create-scopes', 'bad"scope');
    await page.click('#create-form button[type=submit]');
    await page.locator('#create-error').getByText('Each scope must be').waitFor();
    problems.console = problems.console.filter((m) => !m.includes('status of 400')); // the refused create above
    await page.click('#create-form [data-close]');
  });

  test('create: the token is revealed once, copied with the button, and works with fetch', async () => {
    await page.click('#new-token');
    await page.fill('#create-name', 'billing-service');
    await page.fill('#create-description', 'Nightly invoice export');
    await page.fill('#create-scopes', 'read:invoices write:exports');
    await page.selectOption('#create-expiry', '90');
    await page.locator('#expiry-hint').getByText('The token will expire on').waitFor();
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    expect(await page.textContent('#reveal-dialog .flash')).toMatch(/won’t be able to see it again/);
    await page.click('#copy-token');
    await page.locator('#copy-token', { hasText: 'Copied' }).waitFor();
    created = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(await page.inputValue('#reveal-token')).toBe(created);
    expect(parseToken(created, 'esa')).not.toBeNull();
    const used = await page.evaluate(async (token) => {
      const res = await fetch('/api/data', { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, body: await res.json() };
    }, created);
    expect(used).toEqual({ status: 200, body: { ok: true, who: 'billing-service' } });
    await page.click('#reveal-dialog [data-close]');
    await page.waitForFunction("document.getElementById('reveal-token').value === ''");
    const cells = await row('billing-service').locator('td').allTextContents();
    expect(cells.join(' | ')).toMatch(/billing-service.*Nightly invoice export.*read:invoices.*write:exports.*Never used.*active/);
  });

  test('rotate behind a confirmation: a new token is shown, the old one is refused', async () => {
    await row('billing-service').getByRole('button', { name: 'Rotate billing-service' }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.click('#confirm-dialog [data-close]');
    expect(await useFromNode(created)).toBe(200);
    await row('billing-service').getByRole('button', { name: 'Rotate billing-service' }).click();
    await page.selectOption('#confirm-grace', '0');
    await page.click('#confirm-ok');
    await page.locator('#reveal-dialog[open]').waitFor();
    rotated = await page.inputValue('#reveal-token');
    await page.screenshot({ path: join(DOCS, 'screenshots', 'admin-new-token.png') });
    expect(parseToken(rotated, 'esa')?.id).toBe(parseToken(created, 'esa')?.id);
    expect(rotated).not.toBe(created);
    await page.click('#reveal-dialog [data-close]');
    expect(await useFromNode(created)).toBe(401);
    expect(await useFromNode(rotated)).toBe(200);
  });

  test('screenshots of the page for the docs (wide and narrow)', async () => {
    for (const [name, scopes, days] of [
      ['ci-deploy', 'deploy', '30'],
      ['grafana-reader', 'read:metrics', '7'],
    ]) {
      await page.click('#new-token');
      await page.fill('#create-name', name);
      await page.fill('#create-scopes', scopes);
      await page.selectOption('#create-expiry', days);
      await page.click('#create-form button[type=submit]');
      await page.locator('#reveal-dialog[open]').waitFor();
      await page.click('#reveal-dialog [data-close]');
    }
    await row('grafana-reader').waitFor();
    await page.mouse.move(0, 0);
    await page.setViewportSize({ width: 1280, height: 640 });
    await page.screenshot({ path: join(DOCS, 'admin-page.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    const narrow = await openPage(browser, server.url, { width: 390, height: 844 });
    await narrow.page.goto(ui());
    await narrow.page.fill('#signin-token', t.adminToken);
    await narrow.page.keyboard.press('Enter');
    await narrow.page.locator('#token-rows tr').first().waitFor();
    const width = await narrow.page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(390);
    await narrow.page.screenshot({ path: join(DOCS, 'screenshots', 'admin-page-narrow.png'), fullPage: true });
    await narrow.page.click('#new-token');
    await narrow.page.locator('#create-dialog[open]').waitFor();
    await narrow.page.screenshot({ path: join(DOCS, 'screenshots', 'admin-create-narrow.png') });
    expect(narrow.problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await narrow.context.close();
  });

  test('revoke behind a confirmation: the row goes away and the token is refused', async () => {
    await row('billing-service').getByRole('button', { name: 'Revoke billing-service' }).click();
    expect(await page.textContent('#confirm-text')).toMatch(/cannot be undone/);
    await page.click('#confirm-ok');
    await row('billing-service').waitFor({ state: 'detached' });
    expect(await useFromNode(rotated)).toBe(401);
    expect(t.audit.map((e) => `${e.action} ${e.token.name}`)).toEqual(
      expect.arrayContaining(['token.create billing-service', 'token.rotate billing-service', 'token.revoke billing-service']),
    );
  });

  test('no console errors, page errors or CSP violations happened', () => {
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
  });

  test('control: an inline style on the page is blocked by the CSP and would be reported', async () => {
    const probe = await openPage(browser, server.url);
    await probe.page.goto(ui());
    await probe.page.addStyleTag({ content: 'body { color: red }' }).catch(() => undefined);
    await probe.page.waitForTimeout(200);
    expect(probe.problems.csp.join('\n')).toMatch(/style-src/);
    await probe.context.close();
  });
});
