import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { BackendUnavailableError, createMemoryProvider, type SecretProvider, tokenAdminRouter } from '../../lib';
import { UI_CSP } from '../../lib/admin/ui';
import { type AdminApp, bearer, makeAdminApp } from './helpers';

export function guardCases(): void {
  describe('guard', () => {
    let t: AdminApp;
    beforeAll(async () => {
      t = await makeAdminApp();
    });

    test('401 without credentials, with a Bearer challenge and a JSON error', async () => {
      const res = await request(t.app).get(`${t.base}/tokens`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="admin", scope="admin"');
      expect(res.body.error.code).toBe('unauthorized');
    });

    test('401 invalid_token for an unknown token; 403 insufficient_scope for a token without "admin"', async () => {
      const bad = await request(t.app).get(`${t.base}/tokens`).set(bearer('esa_nope'));
      expect(bad.status).toBe(401);
      expect(bad.body.error.code).toBe('invalid_token');
      const { token } = await t.store.create({ name: 'reader', scopes: ['read'] });
      const weak = await request(t.app).post(`${t.base}/tokens`).set(bearer(token)).send({ name: 'x' });
      expect(weak.status).toBe(403);
      expect(weak.body.error.code).toBe('insufficient_scope');
      expect(await t.store.list()).toHaveLength(3);
    });

    test('every API route is guarded', async () => {
      const calls = [
        request(t.app).post(`${t.base}/tokens`).send({ name: 'x' }),
        request(t.app).get(`${t.base}/tokens`),
        request(t.app).get(`${t.base}/tokens/abc`),
        request(t.app).delete(`${t.base}/tokens/abc`),
        request(t.app).post(`${t.base}/tokens/abc/rotate`).send({}),
        request(t.app).get(`${t.base}/me`),
      ];
      for (const res of await Promise.all(calls)) expect(res.status).toBe(401);
    });

    test('adminScope and realm change what the default guard asks for', async () => {
      const r = await makeAdminApp({ router: { adminScope: 'tokens:manage', realm: 'ops' } });
      const res = await request(r.app).get(`${r.base}/tokens`).set(bearer(r.adminToken));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="ops", scope="tokens:manage"/);
    });

    test("guard: the app's own middleware replaces bearerAuth; createdBy names the creator", async () => {
      const session = (req: Request, res: Response, next: NextFunction) => {
        if (req.headers['x-user'] !== 'alice') return void res.status(401).json({ error: { code: 'login_required', message: 'Sign in first.' } });
        next();
      };
      const r = await makeAdminApp({ router: { guard: session, createdBy: (req) => String(req.headers['x-user']) } });
      expect((await request(r.app).get(`${r.base}/tokens`).set(bearer(r.adminToken))).status).toBe(401);
      const res = await request(r.app).post(`${r.base}/tokens`).set('x-user', 'alice').send({ name: 'from-session' });
      expect(res.status).toBe(201);
      expect(res.body.created_by).toBe('alice');
      expect(r.audit[0].actor).toEqual({ name: 'alice', tokenId: null, source: null });
      const me = await request(r.app).get(`${r.base}/me`).set('x-user', 'alice');
      expect(me.body).toMatchObject({ name: 'alice', token_id: null });
    });

    test('GET /me names the caller and the limits the page needs', async () => {
      const r = await makeAdminApp({ router: { maxTtl: '90d', allowedScopes: ['read'] } });
      const res = await request(r.app).get(`${r.base}/me`).set(bearer(r.adminToken));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        name: 'root-admin',
        token_id: expect.any(String),
        scopes: ['admin'],
        limits: { max_ttl: 90 * 86_400, allow_no_expiry: false, max_grace: 7 * 86_400, allowed_scopes: ['read'], auto_rotate: false, delivery_prefix: null },
      });
    });
  });

  describe('errors', () => {
    let t: AdminApp;
    beforeAll(async () => {
      t = await makeAdminApp();
    });

    test('404 JSON for unknown routes and methods under the router, after the guard for API paths', async () => {
      for (const res of [
        await request(t.app).get(`${t.base}/nothing-here`),
        await request(t.app).put(`${t.base}/tokens`).set(bearer(t.adminToken)).send({}),
        await request(t.app).get(`${t.base}/tokens/abc/extra`).set(bearer(t.adminToken)),
      ]) {
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(res.body.error.code).toBe('not_found');
      }
    });

    test("mounted at the app's root, unknown paths fall through to the app", async () => {
      const r = await makeAdminApp({ base: '/' });
      const res = await request(r.app).get('/somewhere-else');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ app: 'not found' });
      expect((await request(r.app).get('/tokens').set(bearer(r.adminToken))).status).toBe(200);
    });

    test('503 backend_unavailable (Retry-After) when the secrets backend is down, and a log line without secrets', async () => {
      const real = createMemoryProvider();
      let down = false;
      const flaky: SecretProvider = {
        kind: 'flaky',
        get: (p) => real.get(p),
        put: (p, d, o) => real.put(p, d, o),
        delete: (p) => real.delete(p),
        list: (p) => (down ? Promise.reject(new BackendUnavailableError('connection refused (test)')) : real.list(p)),
        close: () => real.close(),
      };
      const r = await makeAdminApp({ provider: flaky });
      down = true;
      const res = await request(r.app).get(`${r.base}/tokens`).set(bearer(r.adminToken));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.error.code).toBe('backend_unavailable');
      expect(r.logs.join('\n')).toMatch(/BackendUnavailableError/);
      expect(r.logs.join('\n')).not.toContain(r.adminToken);
    });
  });

  describe('GET /ui', () => {
    let t: AdminApp;
    beforeAll(async () => {
      t = await makeAdminApp();
    });

    test('serves the page without a guard, with the strict CSP and the mount path filled in', async () => {
      const res = await request(t.app).get(`${t.base}/ui`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
      expect(UI_CSP).toContain("script-src 'self'");
      expect(UI_CSP).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.text).toContain(`<script type="module" src="${t.base}/ui/app.js"></script>`);
      expect(res.text).toContain(`data-base="${t.base}"`);
      expect(res.text).not.toMatch(/<script>|<style|\sstyle="|\son[a-z]+="|https?:\/\/(?!www\.w3\.org)/);
    });

    test("a mount path with $' and $& is filled in literally (no String.replace patterns)", async () => {
      // Mounted under a parameter, so the odd characters come from the URL on Express 4 and 5 alike.
      const app = express();
      app.use('/:tenant/auth', tokenAdminRouter({ tokens: t.store, logger: { info: () => {}, warn: () => {} } }));
      const res = await request(app).get("/adm$'in$&x/auth/ui");
      expect(res.status).toBe(200);
      const base = '/adm$&#39;in$&amp;x/auth'; // the mount path, HTML-escaped
      expect(res.text).toContain(`data-base="${base}"`);
      expect(res.text).toContain(`<script type="module" src="${base}/ui/app.js"></script>`);
      expect(res.text).not.toContain('%BASE%');
      expect(res.text).toContain('data-mode="token"');
    });

    test.each([
      ['app.js', 'text/javascript; charset=utf-8'],
      ['table.js', 'text/javascript; charset=utf-8'],
      ['app.css', 'text/css; charset=utf-8'],
      ['icon.svg', 'image/svg+xml'],
    ])('serves %s as %s with the CSP', async (file, type) => {
      const res = await request(t.app).get(`${t.base}/ui/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
      expect(res.text ?? res.body.toString()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    });

    test('tokenSignIn, signInUrl and appUrl reach the page, HTML-escaped; defaults follow the guard', async () => {
      const page = async (router: Parameters<typeof makeAdminApp>[0]) => {
        const a = await makeAdminApp(router);
        return (await request(a.app).get(`${a.base}/ui`)).text;
      };
      const plain = await page({});
      expect(plain).toContain('data-mode="token" data-token-sign-in="true" data-sign-in-url="" data-app-url=""');
      const guarded = await page({ router: { guard: (_req, _res, next) => next() } });
      expect(guarded).toContain('data-mode="guard" data-token-sign-in="false"');
      const linked = await page({
        router: { guard: (_req, _res, next) => next(), tokenSignIn: true, signInUrl: '/login?next=/a&b="c"', appUrl: 'https://app.example/' },
      });
      expect(linked).toContain('data-token-sign-in="true" data-sign-in-url="/login?next=/a&amp;b=&quot;c&quot;" data-app-url="https://app.example/"');
      expect(linked).toContain('id="sign-in-link" href="/login?next=/a&amp;b=&quot;c&quot;"');
      expect(linked).toContain('id="app-link" href="https://app.example/"');
    });

    test.each([
      ['signInUrl', 'javascript:alert(1)'],
      ['signInUrl', '//evil.example/login'],
      ['appUrl', '/\\evil.example'],
      ['appUrl', '/with space'],
      ['appUrl', 42],
      ['tokenSignIn', 'yes'],
    ])('tokenAdminRouter refuses %s %p', (name, value) => {
      expect(() => tokenAdminRouter({ tokens: t.store, [name]: value } as unknown as Parameters<typeof tokenAdminRouter>[0])).toThrow(new RegExp(name));
    });

    test('unknown assets are a JSON 404; ui: false turns the page off', async () => {
      const missing = await request(t.app).get(`${t.base}/ui/secret.txt`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
      const r = await makeAdminApp({ router: { ui: false } });
      expect((await request(r.app).get(`${r.base}/ui`)).status).toBe(404);
    });
  });
}
