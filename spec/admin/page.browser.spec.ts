// The token page in headless Chromium against a test app on the file provider: sign in, create a
// token and copy it, use it, rotate it, revoke it, see it refused; CSP present and never violated.
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { UI_CSP } from '../../lib/admin/ui';
import { createFileProvider } from '../../lib';
import { parseToken } from '../../lib/tokens/format';
import { describeWith } from '../support/components';
import { launch, listen, openPage, type Problems } from './browser';
import { type AdminApp, makeAdminApp, tokenEvents } from './helpers';
import { removeTempDir, tempDir } from '../support/temp-dir';

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
  /** Closes the shown-once dialog without copying: Done asks first, then "Close without copying". */
  const closeUncopied = async () => {
    await page.click('#reveal-close');
    await page.locator('#reveal-leave').getByText('You will not see this token again').waitFor();
    await page.click('#reveal-discard');
    await page.locator('#reveal-dialog[open]').waitFor({ state: 'detached' });
  };
  const useFromNode = async (token: string) => (await fetch(`${server.url}/api/data`, { headers: { Authorization: `Bearer ${token}` } })).status;

  beforeAll(async () => {
    dir = await tempDir('admin-page-');
    t = await makeAdminApp({ provider: createFileProvider({ basePath: dir, fsync: false }), router: { maxTtl: '365d' } });
    server = await listen(t.app);
    browser = await launch();
    ({ context, page, problems } = await openPage(browser, server.url));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await removeTempDir(dir);
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

  test('the "Give the token a name." message goes away once a name is typed', async () => {
    await page.click('#new-token');
    await page.click('#create-form button[type=submit]');
    await page.locator('#create-error').getByText('Give the token a name.').waitFor();
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('create-name');
    await page.keyboard.type('n');
    await page.locator('#create-error').waitFor({ state: 'hidden' });
    await page.click('#create-form [data-close]');
  });

  test('a custom date is stored as the end of that local day (UTC here), not a day later', async () => {
    const day = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    await page.click('#new-token');
    await page.fill('#create-name', 'custom-day');
    await page.selectOption('#create-expiry', 'custom');
    await page.fill('#create-custom', day);
    const long = new Intl.DateTimeFormat('en-US', { dateStyle: 'full', timeZone: 'UTC' }).format(new Date(`${day}T12:00:00Z`));
    await page.locator('#expiry-hint').getByText(`The token will expire on ${long} at 11:59 PM.`).waitFor();
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    await closeUncopied();
    const stored = (await t.store.list()).find((x) => x.name === 'custom-day');
    expect(stored?.expiresAt).toBe(`${day}T23:59:59.999Z`);
    const shown = await row('custom-day').locator('td[data-label="Expires"] time').getAttribute('datetime');
    expect(shown).toBe(`${day}T23:59:59.999Z`);
  });

  test('in another time zone the custom date ends at that zone’s midnight', async () => {
    const tz = await openPage(browser, server.url, undefined, 'Pacific/Auckland');
    await tz.page.goto(ui());
    await tz.page.fill('#signin-token', t.adminToken);
    await tz.page.keyboard.press('Enter');
    await tz.page.click('#new-token');
    await tz.page.fill('#create-name', 'auckland-day');
    await tz.page.selectOption('#create-expiry', 'custom');
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(new Date(Date.now() + 40 * 86_400_000));
    await tz.page.fill('#create-custom', day);
    await tz.page.click('#create-form button[type=submit]');
    await tz.page.locator('#reveal-dialog[open]').waitFor();
    const stored = (await t.store.list()).find((x) => x.name === 'auckland-day');
    const local = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Pacific/Auckland',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    expect(local.format(new Date(stored?.expiresAt as string))).toBe(`${day}, 23:59:59`);
    expect(tz.problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await tz.context.close();
    await t.store.revoke(stored?.id as string);
  });

  test('Escape on the shown-once dialog asks first ("You will not see this token again"), and can go back', async () => {
    await page.click('#new-token');
    await page.fill('#create-name', 'escape-test');
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    const token = await page.inputValue('#reveal-token');
    await page.keyboard.press('Escape');
    await page.locator('#reveal-leave').getByText('You will not see this token again').waitFor();
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('reveal-stay');
    await page.keyboard.press('Escape'); // a second Escape goes back to the token, it does not close
    await page.locator('#reveal-leave').waitFor({ state: 'hidden' });
    expect(await page.locator('#reveal-dialog[open]').count()).toBe(1);
    expect(await page.inputValue('#reveal-token')).toBe(token);
    await page.keyboard.press('Escape');
    await page.click('#reveal-stay');
    expect(await page.inputValue('#reveal-token')).toBe(token);
    await closeUncopied();
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
    await page.click('#reveal-close'); // copied: Done closes at once
    await page.waitForFunction("document.getElementById('reveal-token').value === ''");
    const cells = await row('billing-service').locator('td').allTextContents();
    expect(cells.join(' | ')).toMatch(/billing-service.*Nightly invoice export.*read:invoices.*write:exports.*root-admin.*Never used.*active/);
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
    await closeUncopied();
    expect(await useFromNode(created)).toBe(401);
    expect(await useFromNode(rotated)).toBe(200);
    await row('billing-service')
      .locator('.tok-note')
      .getByText(/^Rotated .* · old secret no longer works$/)
      .waitFor();
  });

  test('a rotation with a grace period shows when the old secret stops working, in the row', async () => {
    await row('billing-service').getByRole('button', { name: 'Rotate billing-service' }).click();
    await page.selectOption('#confirm-grace', '3600');
    await page.click('#confirm-ok');
    await page.locator('#reveal-dialog[open]').waitFor();
    const next = await page.inputValue('#reveal-token');
    await closeUncopied();
    const stored = await t.store.get(parseToken(next, 'esa')?.id as string);
    const until = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(
      new Date(stored?.previousExpiresAt as string),
    );
    await row('billing-service').locator('.tok-note').getByText(`old secret works until ${until}`).waitFor();
    expect(await useFromNode(rotated)).toBe(200); // still inside the grace period
    rotated = next;
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
      await closeUncopied();
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

  test('a new 7-day token is "active", not "expiring"; names are plain text; "created by" is shown', async () => {
    expect(await row('grafana-reader').locator('.state').textContent()).toBe('active');
    const style = await page.evaluate<{ inLink: boolean; color: string; body: string; decoration: string; cursor: string }>(`(() => {
      const n = document.querySelector('#token-rows tr[aria-label="grafana-reader"] .tok-name');
      const s = getComputedStyle(n);
      return { inLink: Boolean(n.closest('a')), color: s.color, body: getComputedStyle(document.body).color, decoration: s.textDecorationLine, cursor: s.cursor };
    })()`);
    expect(style).toEqual({ inLink: false, color: style.body, body: style.body, decoration: 'none', cursor: 'auto' });
    expect(await row('grafana-reader').locator('td[data-label="Created by"]').textContent()).toBe('root-admin');
    expect(await row('deploy-bot').locator('td[data-label="Created by"]').textContent()).toBe('config');
  });

  test('search filters the rows; column headers sort both ways', async () => {
    const names = () => page.locator('#token-rows .tok-name').allTextContents();
    await page.fill('#search', 'metrics');
    await page.waitForFunction("document.querySelectorAll('#token-rows tr').length === 1");
    expect(await names()).toEqual(['grafana-reader']);
    expect(await page.textContent('#count')).toMatch(/^1 of \d+ tokens$/);
    await page.fill('#search', 'no-such-thing');
    await page.locator('#empty').getByText('No token matches the search.').waitFor();
    await page.fill('#search', '');
    const all = await names();
    await page.click('th[data-sort="name"] button');
    expect(await page.getAttribute('th[data-sort="name"]', 'aria-sort')).toBe('ascending');
    const asc = await names();
    expect(asc).toEqual([...all].sort((a, b) => a.localeCompare(b)));
    await page.click('th[data-sort="name"] button');
    expect(await page.getAttribute('th[data-sort="name"]', 'aria-sort')).toBe('descending');
    expect(await names()).toEqual([...asc].reverse());
    await page.click('th[data-sort="expires_at"] button');
    const expiries = await page
      .locator('#token-rows td[data-label="Expires"]')
      .evaluateAll((tds) => tds.map((td) => td.querySelector('time')?.getAttribute('datetime') ?? 'never'));
    const finite = expiries.filter((e) => e !== 'never');
    expect(finite).toEqual([...finite].sort());
    expect(expiries.slice(finite.length).every((e) => e === 'never')).toBe(true);
    await page.click('th[data-sort="created_at"] button'); // back to the default order
  });

  test('revoke behind a confirmation: the row goes away and the token is refused', async () => {
    await row('billing-service').getByRole('button', { name: 'Revoke billing-service' }).click();
    expect(await page.textContent('#confirm-text')).toMatch(/cannot be undone/);
    expect(await page.isHidden('#confirm-self')).toBe(true);
    const order = await page.locator('#token-rows tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    const next = order[order.indexOf(parseToken(rotated, 'esa')?.id as string) + 1];
    await page.click('#confirm-ok');
    await row('billing-service').waitFor({ state: 'detached' });
    await page.waitForFunction(`document.activeElement?.dataset.id === ${JSON.stringify(next)}`);
    expect(await useFromNode(rotated)).toBe(401);
    expect(tokenEvents(t.audit).map((e) => `${e.action} ${e.token.name}`)).toEqual(
      expect.arrayContaining(['token.create billing-service', 'token.rotate billing-service', 'token.revoke billing-service']),
    );
  });

  test('revoking the token the page is signed in with warns specifically, then signs out', async () => {
    await row('root-admin').getByText('signed in with this').waitFor();
    await row('root-admin').getByRole('button', { name: 'Revoke root-admin' }).click();
    await page.locator('#confirm-self').getByText('This is the token you are signed in with.').waitFor();
    expect(await page.textContent('#confirm-ok')).toBe('Revoke and sign out');
    await page.click('#confirm-ok');
    await page.locator('#signin-error').getByText('You revoked the token this page was signed in with').waitFor();
    expect(await page.isHidden('#tokens')).toBe(true);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await useFromNode(t.adminToken)).toBe(401);
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
