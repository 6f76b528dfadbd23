// The token page with the app's own session as the guard: the cookie signs in. With `tokenSignIn`
// the page also takes a pasted admin token; `signInUrl` and `appUrl` link to the app; with
// `allowedScopes` scopes are checkboxes.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Browser } from 'playwright-core';
import { bearerAuth } from '../../lib';
import { describeWith } from '../support/components';
import { launch, listen, openPage } from './browser';
import { type AdminApp, makeAdminApp } from './helpers';

describeWith('chromium', 'token admin page with a session guard (Chromium)', () => {
  let t: AdminApp;
  let linked: AdminApp;
  let server: { url: string; close: () => Promise<void> };
  let linkedServer: { url: string; close: () => Promise<void> };
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
  // The demo's guard: a signed-in admin, or else a bearer token with the admin scope.
  let adminBearer: RequestHandler | undefined;
  const sessionOrAdminToken = (req: Request, res: Response, next: NextFunction) => {
    if (req.auth?.scopes.includes('admin')) return next();
    if (!req.headers.authorization) return requireAdmin(req, res, next);
    adminBearer ??= bearerAuth({ tokens: linked.store, scopes: ['admin'], rateLimit: false });
    adminBearer(req, res, next);
  };

  beforeAll(async () => {
    t = await makeAdminApp({ before: [session], router: { guard: requireAdmin } });
    linked = await makeAdminApp({
      before: [session],
      router: {
        guard: sessionOrAdminToken,
        tokenSignIn: true,
        signInUrl: '/login?next=/api/v2/auth/ui',
        appUrl: '/',
        allowedScopes: ['read', 'write', 'admin'],
      },
    });
    server = await listen(t.app);
    linkedServer = await listen(linked.app);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await linkedServer?.close();
  });

  test("signed in through the app's session: the table shows, tokens are created by the session user", async () => {
    const { context, page, problems } = await openPage(browser, server.url);
    await context.addCookies([{ name: 'user', value: 'alice', url: server.url }]);
    await page.goto(`${server.url}${t.base}/ui`);
    await page.locator('#token-rows tr').first().waitFor();
    expect(await page.isHidden('#signin')).toBe(true);
    expect(await page.isHidden('#sign-out')).toBe(true);
    expect(await page.isHidden('#app-link')).toBe(true); // no appUrl given
    expect(await page.textContent('#who-name')).toBe('alice');
    await page.click('#new-token');
    await page.fill('#create-name', 'from-session');
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    expect(t.audit.at(-1)?.actor?.name).toBe('alice');
    expect((await t.store.list()).find((x) => x.name === 'from-session')?.createdBy).toBe('alice');
    await page.locator('tr[aria-label="from-session"] td[data-label="Created by"]').getByText('alice').waitFor();
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await context.close();
  });

  test('without a session (no tokenSignIn): says to sign in to the app, no token field, no API banner', async () => {
    const { context, page } = await openPage(browser, server.url);
    await page.goto(`${server.url}${t.base}/ui`);
    await page.locator('#guard-text').waitFor();
    expect(await page.isHidden('#signin-form')).toBe(true);
    expect(await page.isHidden('#banner')).toBe(true);
    expect(await page.isHidden('#sign-in-link')).toBe(true); // no signInUrl given
    expect(await page.textContent('body')).not.toMatch(/login_required|Sign in to the app as an administrator/);
    await context.close();
  });

  test('signed out with tokenSignIn and signInUrl: a sign-in link and a token field; a pasted admin token signs in', async () => {
    const { context, page, problems } = await openPage(browser, linkedServer.url);
    await page.goto(`${linkedServer.url}${linked.base}/ui`);
    await page.locator('#guard-text').waitFor();
    expect(await page.getAttribute('#sign-in-link', 'href')).toBe('/login?next=/api/v2/auth/ui');
    expect(await page.isVisible('#sign-in-link')).toBe(true);
    expect(await page.isVisible('#signin-token')).toBe(true);
    expect(await page.textContent('#token-or')).toBe('Or use an admin token');
    expect(await page.isHidden('#banner')).toBe(true);
    problems.console = problems.console.filter((m) => !m.includes('status of 401')); // the signed-out /me
    await page.fill('#signin-token', linked.adminToken);
    await page.keyboard.press('Enter');
    await page.locator('#token-rows tr').first().waitFor();
    expect(await page.textContent('#who-name')).toBe('root-admin');
    expect(await page.isVisible('#sign-out')).toBe(true);
    expect(await page.getAttribute('#app-link', 'href')).toBe('/');
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toEqual([linked.adminToken]);
    await page.click('#sign-out'); // no session behind it: back to the signed-out view
    await page.locator('#signin-token').waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    problems.console = problems.console.filter((m) => !m.includes('status of 401'));
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await context.close();
  });

  test('signed in with a session and allowedScopes: a link back to the app, and scopes as checkboxes', async () => {
    const { context, page, problems } = await openPage(browser, linkedServer.url);
    await context.addCookies([{ name: 'user', value: 'alice', url: linkedServer.url }]);
    await page.goto(`${linkedServer.url}${linked.base}/ui`);
    await page.locator('#token-rows tr').first().waitFor();
    await page.getByRole('link', { name: 'Back to the app' }).waitFor();
    expect(await page.getAttribute('#app-link', 'href')).toBe('/');
    expect(await page.isHidden('#signin')).toBe(true);
    await page.click('#new-token');
    expect(await page.isHidden('#create-scopes')).toBe(true);
    expect(await page.locator('#scope-list input[type=checkbox]').evaluateAll((cs) => cs.map((c) => c.getAttribute('value')))).toEqual([
      'read',
      'write',
      'admin',
    ]);
    await page.fill('#create-name', 'checked-scopes');
    await page.getByLabel('read', { exact: true }).check();
    await page.getByLabel('write', { exact: true }).check();
    await page.click('#create-form button[type=submit]');
    await page.locator('#reveal-dialog[open]').waitFor();
    expect((await linked.store.list()).find((x) => x.name === 'checked-scopes')?.scopes).toEqual(['read', 'write']);
    expect(problems).toEqual({ console: [], pageErrors: [], csp: [] });
    await context.close();
  });

  test('signed in to the app without the right: says so, with no API banner', async () => {
    const { context, page, problems } = await openPage(browser, linkedServer.url);
    await context.addCookies([{ name: 'user', value: 'bob', url: linkedServer.url }]);
    await page.goto(`${linkedServer.url}${linked.base}/ui`);
    await page.locator('#signin-denied').getByText('this account may not manage API tokens').waitFor();
    expect(await page.isHidden('#banner')).toBe(true);
    expect(problems.pageErrors).toEqual([]);
    await context.close();
  });
});
