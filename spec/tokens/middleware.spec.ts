import express5 from 'express';
import { MemoryStore } from 'express-rate-limit';
import express4 from 'express4';
import request from 'supertest';
import { bearerAuth, type BearerAuthOptions, createMemoryProvider, createVaultProvider, TokenStore, type TokenStoreOptions } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { closedPort, recordingLogger } from './helpers';

const STATIC = 'static-credential-for-middleware';

describe.each([
  ['express 4', express4],
  ['express 5', express5],
])('bearerAuth (RFC 6750) on %s', (_label, express) => {
  let store: TokenStore;
  let token: string;
  let clock: number;

  const appWith = (opts: Partial<BearerAuthOptions> = {}, tokens: TokenStore = store) => {
    const app = express();
    const auth = bearerAuth({ tokens, realm: 'test', rateLimit: false, ...opts });
    app.get('/api', auth, (req, res) => {
      res.json({ auth: req.auth ?? null });
    });
    app.get('/admin', bearerAuth({ tokens, realm: 'test', rateLimit: false, ...opts, scopes: ['admin'] }), (req, res) => {
      res.json({ auth: req.auth ?? null });
    });
    app.get('/missing', auth, (_req, res) => {
      res.status(404).json({ error: { code: 'not_found', message: 'no' } });
    });
    return app;
  };

  const provider = createMemoryProvider();
  const opened: TokenStore[] = [];
  /** A store on the shared provider; `rateLimit` is the store's failure limit (one per store). */
  const open = (opts: Partial<TokenStoreOptions> = {}): TokenStore => {
    const s = new TokenStore({ provider, bcryptCost: 4, now: () => clock, staticTokens: [{ name: 'ops', credential: STATIC, scopes: ['admin'] }], ...opts });
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    clock = Date.parse('2030-01-01T00:00:00Z');
    store = open();
    ({ token } = await store.create({ name: 'reader', scopes: ['read'], expiresIn: '1h' }));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  test('a valid token passes and sets req.auth', async () => {
    const res = await request(appWith()).get('/api').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.auth).toEqual({ tokenId: expect.any(String), name: 'reader', scopes: ['read'], source: 'store' });
    const fixed = await request(appWith()).get('/admin').set('Authorization', `bearer ${STATIC}`).expect(200);
    expect(fixed.body.auth).toEqual({ tokenId: 'ops', name: 'ops', scopes: ['admin'], source: 'config' });
  });

  test('no credentials: 401 with a challenge carrying no error code', async () => {
    for (const header of [undefined, 'Basic dXNlcjpwYXNz']) {
      const req = request(appWith()).get('/api');
      const res = await (header ? req.set('Authorization', header) : req).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="test"');
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
  });

  test('malformed header or a token in the URL: 400 invalid_request', async () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer tok"en']) {
      const res = await request(appWith()).get('/api').set('Authorization', header).expect(400);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="test", error="invalid_request", error_description="[^"]+"$/);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const query = await request(appWith()).get(`/api?access_token=${token}`).expect(400);
    expect(query.body.error.message).toMatch(/Authorization header/);
    await request(appWith({ allowQueryToken: true }))
      .get(`/api?access_token=${token}`)
      .expect(200);
    await request(appWith({ allowQueryToken: true }))
      .get(`/api?access_token=${token}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(400);
  });

  test('unknown, tampered, expired and revoked tokens: 401 invalid_token', async () => {
    const expect401 = async (t: string) => {
      const res = await request(appWith()).get('/api').set('Authorization', `Bearer ${t}`).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="test", error="invalid_token", error_description="[^"]+"$/);
      expect(res.body.error.code).toBe('invalid_token');
    };
    await expect401(generateToken('esa').token);
    await expect401(`${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`); // a different last character
    const { token: revoked, record } = await store.create({ name: 'gone' });
    await request(appWith()).get('/api').set('Authorization', `Bearer ${revoked}`).expect(200);
    await store.revoke(record.id);
    await expect401(revoked);
    clock += 3_600_000;
    await expect401(token);
  });

  test('missing scope: 403 insufficient_scope with scope="..."', async () => {
    const res = await request(appWith()).get('/admin').set('Authorization', `Bearer ${token}`).expect(403);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="test", scope="admin", error="insufficient_scope"/);
    expect(res.body.error.code).toBe('insufficient_scope');
  });

  test('optional: no credentials pass without req.auth, bad ones are still refused', async () => {
    const res = await request(appWith({ optional: true }))
      .get('/api')
      .expect(200);
    expect(res.body.auth).toBeNull();
    await request(appWith({ optional: true }))
      .get('/api')
      .set('Authorization', 'Bearer nope')
      .expect(401);
  });

  test('failed attempts are limited per client: 429 with Retry-After; successes and app errors do not count', async () => {
    store = open({ rateLimit: { windowMs: 60_000, limit: 3 } });
    const app = appWith({ rateLimit: undefined });
    for (let i = 0; i < 10; i++) await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200);
    for (let i = 0; i < 5; i++) await request(app).get('/missing').set('Authorization', `Bearer ${token}`).expect(404);
    await request(app).get('/admin').set('Authorization', `Bearer ${token}`).expect(403);
    for (let i = 0; i < 3; i++) await request(app).get('/api').set('Authorization', 'Bearer wrong').expect(401);
    const limited = await request(app).get('/api').set('Authorization', 'Bearer wrong').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body.error.code).toBe('too_many_requests');
    expect(limited.headers['cache-control']).toBe('no-store');
    await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(429);
  });

  test('a shared express-rate-limit store counts failures across instances', async () => {
    const shared = new MemoryStore();
    const a = appWith({ rateLimit: undefined }, open({ rateLimit: { limit: 4, store: shared } }));
    const b = appWith({ rateLimit: undefined }, open({ rateLimit: { limit: 4, store: shared } }));
    for (const app of [a, b, a, b]) await request(app).get('/api').set('Authorization', 'Bearer wrong').expect(401);
    // b saw the 4th failure: it refuses the client at once, even with a valid token.
    await request(b).get('/api').set('Authorization', `Bearer ${token}`).expect(429);
    // a refuses it after the first failure it sees past the shared count (one extra attempt per instance).
    await request(a).get('/api').set('Authorization', 'Bearer wrong').expect(401);
    await request(a).get('/api').set('Authorization', `Bearer ${token}`).expect(429);
  });

  test('req.auth is read-only, so a handler cannot widen the cached principal', async () => {
    const app = express();
    app.get('/api', bearerAuth({ tokens: store, rateLimit: false }), (req, res) => {
      let threw = false;
      try {
        req.auth?.scopes.push('admin');
      } catch {
        threw = true;
      }
      res.json({ threw, scopes: req.auth?.scopes });
    });
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toEqual({ threw: true, scopes: ['read'] });
    }
  });

  test('the default limit is 20 failed attempts per minute', async () => {
    const app = appWith({ rateLimit: undefined });
    for (let i = 0; i < 20; i++) await request(app).get('/api').set('Authorization', 'Bearer wrong').expect(401);
    await request(app).get('/api').set('Authorization', 'Bearer wrong').expect(429);
  });

  test('backend down: 503 temporarily_unavailable, fail closed, logged without the token', async () => {
    const logger = recordingLogger();
    const provider = createVaultProvider({
      address: `http://127.0.0.1:${await closedPort()}`,
      auth: { method: 'token', token: 'unused' },
      timeoutMs: 300,
      retries: 0,
    });
    const down = new TokenStore({ provider, bcryptCost: 4 });
    const app = express();
    app.get('/api', bearerAuth({ tokens: down, logger }), (_req, res) => {
      res.json({ ok: true });
    });
    const t = generateToken('esa').token;
    const res = await request(app).get('/api').set('Authorization', `Bearer ${t}`).expect(503);
    expect(res.body.error.code).toBe('temporarily_unavailable');
    expect(res.headers['retry-after']).toBe('5');
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).not.toContain(t);
    await provider.close();
  });
});
