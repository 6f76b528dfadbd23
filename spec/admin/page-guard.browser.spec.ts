// The token page with the app's own session as the guard: no token to paste, the cookie signs in.
import type { NextFunction, Request, Response } from 'express';
import type { Browser } from 'playwright-core';
import { describeWith } from '../support/components';
import { launch, listen, openPage } from './browser';
import { type AdminApp, makeAdminApp } from './helpers';

describeWith('chromium', 'token admin page with a session guard (Chromium)', () => {
  let t: AdminApp;
  let server: { url: string; close: () => Promise<void> };
  let browser: Browser;

  // A stand-in for the app's login: a cookie names the user.
  const session = (req: Request, _res: Response, next: NextFunction) => {
    const user = /(?:^|;\s*)user=([a-z]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (user) req.auth = { tokenId: `session:${user}`, name: user, scopes: user === 'alice' ? ['admin'] : [], source: 'store' };
    next();
  };
  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    if (req.auth?.scopes.includes('admin')) return next();
    res.status(req.auth ? 403 : 401).json({ error: { code: 'login_required', message: 'Sign in to the app as an administrator.' } });
  };

  beforeAll(async () => {
    t = await makeAdminApp({ before: [session], router: { guard: requireAdmin } });
    server = await listen(t.app);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("signed in through the app's session: the table shows, tokens are created by the session user", async () => {
    const { context, page, problems } = await openPage(browser, server.url);
    await context.addCookies([{ name: 'user', value: 'alice', url: server.url }]);
    await page.goto(`${server.url}${t.base}/ui`);
    await page.locator('#token-rows tr').first().waitFor();
    expect(await page.isHidden('#signin')).toBe(true);
    expect(await page.isHidden('#sign-out')).toBe(true);
    expect(await page.textContent('#who-name')).toBe('alice');
    await page.click('#new-token');
    await page.fill('#create-name', 'from-session');
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    expect(t.audit.at(-1)?.actor?.name).toBe('alice');
    expect((await t.store.list()).find((x) => x.name === 'from-session')?.createdBy).toBe('alice');
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await context.close();
  });

  test('without a session the page says to sign in to the app, and offers no token field', async () => {
    const { context, page } = await openPage(browser, server.url);
    await page.goto(`${server.url}${t.base}/ui`);
    await page.locator('#guard-text').waitFor();
    expect(await page.isHidden('#signin-form')).toBe(true);
    expect(await page.textContent('#banner')).toMatch(/Sign in to the app as an administrator/);
    await context.close();
  });
});
