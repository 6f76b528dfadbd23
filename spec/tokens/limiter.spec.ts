// One failed-attempt limiter per TokenStore: every bearerAuth() built on the store, the admin
// router's guard included, counts into it, so spreading forged tokens over routes gains nothing.
import express from 'express';
import request from 'supertest';
import { bearerAuth, createMemoryProvider, tokenAdminRouter, TokenStore } from '../../lib';
import { recordingLogger } from './helpers';

const ADMIN = 'static-admin-credential-for-limiter';

function appOn(store: TokenStore) {
  const app = express();
  const logger = { ...recordingLogger(), info: () => {} };
  app.get('/api', bearerAuth({ tokens: store, logger }), (_req, res) => res.json({ ok: true }));
  app.get('/reports', bearerAuth({ tokens: store, logger, scopes: ['read'] }), (_req, res) => res.json({ ok: true }));
  app.use('/auth', tokenAdminRouter({ tokens: store, logger }));
  return app;
}

describe('one failure limiter per TokenStore', () => {
  let store: TokenStore;
  afterEach(() => store.close());

  test('failures on one bearerAuth() count on every other one and on the admin router', async () => {
    store = new TokenStore({
      provider: createMemoryProvider(),
      bcryptCost: 4,
      rateLimit: { limit: 3, windowMs: 60_000 },
      staticTokens: [{ name: 'admin', credential: ADMIN, scopes: ['admin', 'read'] }],
    });
    const app = appOn(store);
    expect(store.failureLimiter).not.toBeNull();
    await request(app).get('/api').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    for (let i = 0; i < 2; i++) await request(app).get('/api').set('Authorization', 'Bearer forged-1').expect(401);
    await request(app).get('/reports').set('Authorization', 'Bearer forged-2').expect(401);
    // The third failure was on /reports: /api, /reports and the admin API all refuse the client now.
    for (const path of ['/api', '/reports', '/auth/tokens']) {
      const res = await request(app).get(path).set('Authorization', 'Bearer forged-3').expect(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    await request(app).get('/auth/tokens').set('Authorization', `Bearer ${ADMIN}`).expect(429);
  });

  test('failures on the admin router count on the API routes too', async () => {
    store = new TokenStore({ provider: createMemoryProvider(), bcryptCost: 4, rateLimit: { limit: 2 } });
    const app = appOn(store);
    for (let i = 0; i < 2; i++) await request(app).get('/auth/tokens').set('Authorization', 'Bearer forged').expect(401);
    await request(app).get('/api').set('Authorization', 'Bearer forged').expect(429);
  });

  test('rateLimit: false on the store turns limiting off for every bearerAuth() on it', async () => {
    store = new TokenStore({ provider: createMemoryProvider(), bcryptCost: 4, rateLimit: false });
    expect(store.failureLimiter).toBeNull();
    const app = appOn(store);
    for (let i = 0; i < 25; i++) await request(app).get('/api').set('Authorization', 'Bearer forged').expect(401);
  });
});
