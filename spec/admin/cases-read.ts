import request from 'supertest';
import { type AdminApp, bearer, CONFIG_TOKEN, makeAdminApp } from './helpers';

const DAY_MS = 86_400_000;

export function readCases(): void {
  describe('GET /tokens and GET /tokens/:id', () => {
    let t: AdminApp;
    let ids: Record<string, string>;
    beforeAll(async () => {
      t = await makeAdminApp({ router: { expiringWithin: '1d' } });
      const start = t.clock.now;
      const make = async (name: string, expiresIn: number | null) => (await t.store.create({ name, expiresIn, scopes: ['read'] })).record.id;
      t.clock.now = start - 25 * DAY_MS; // created 25 days ago with 30 days to live: past 2/3 -> expiring
      const old = await make('old', 30 * 86_400);
      t.clock.now = start - 10 * DAY_MS; // 10 days ago, 5 days to live -> expired
      const gone = await make('gone', 5 * 86_400);
      t.clock.now = start;
      const fresh = await make('fresh', 90 * 86_400);
      const forever = await make('forever', null);
      const week = await make('week', 7 * 86_400); // new, 7 days to live: not expiring yet
      t.clock.now = start - 50 * 60_000; // 50 minutes ago, 1 hour to live: in its last third
      const soon = await make('soon', 3600);
      t.clock.now = start;
      ids = { old, gone, fresh, forever, week, soon };
    });
    const get = (path: string) => request(t.app).get(`${t.base}${path}`).set(bearer(t.adminToken));

    test('lists metadata only, never a hash, with states; config tokens as source "config"', async () => {
      const res = await get('/tokens');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const byName = Object.fromEntries(res.body.tokens.map((x: { name: string }) => [x.name, x]));
      expect(Object.keys(byName).sort()).toEqual(['deploy-bot', 'forever', 'fresh', 'gone', 'old', 'root-admin', 'soon', 'week']);
      expect(byName.old.state).toBe('expiring');
      expect(byName.gone.state).toBe('expired');
      expect(byName.fresh.state).toBe('active');
      expect(byName.forever.state).toBe('active');
      expect(byName.soon.state).toBe('expiring');
      expect(byName.week.state).toBe('active');
      expect(byName['deploy-bot']).toMatchObject({ id: 'deploy-bot', source: 'config', scopes: CONFIG_TOKEN.scopes, state: 'active', created_at: null });
      expect(Object.keys(byName.fresh).sort()).toEqual(
        [
          'created_at',
          'created_by',
          'delivery_path',
          'description',
          'expires_at',
          'id',
          'last_used_at',
          'name',
          'previous_expires_at',
          'rotated_at',
          'scopes',
          'source',
          'state',
        ].sort(),
      );
      const text = JSON.stringify(res.body);
      expect(text).not.toMatch(/bcrypt|\$2[aby]\$|sha256|credential|token"/);
      expect(text).not.toContain(CONFIG_TOKEN.credential);
    });

    test.each([
      ['active', ['deploy-bot', 'forever', 'fresh', 'root-admin', 'week']],
      ['expiring', ['old', 'soon']],
      ['expired', ['gone']],
    ])('?state=%s filters', async (state, names) => {
      const res = await get(`/tokens?state=${state}`);
      expect(res.status).toBe(200);
      expect(res.body.tokens.map((x: { name: string }) => x.name).sort()).toEqual(names);
    });

    test('400 for an unknown ?state= or a repeated one', async () => {
      for (const q of ['?state=revoked', '?state=active&state=expired']) {
        const res = await get(`/tokens${q}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toEqual({ code: 'invalid_request', message: 'state must be one of active, expiring, expired.' });
      }
    });

    test('GET /tokens/:id gives one token (stored or config); 404 for an unknown id', async () => {
      const one = await get(`/tokens/${ids.fresh}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: ids.fresh, name: 'fresh', state: 'active', source: 'store' });
      expect(one.body.token).toBeUndefined();
      const cfg = await get('/tokens/deploy-bot');
      expect(cfg.body).toMatchObject({ id: 'deploy-bot', source: 'config' });
      const missing = await get('/tokens/AAAAAAAAAAAA');
      expect(missing.status).toBe(404);
      expect(missing.body.error).toEqual({ code: 'not_found', message: 'No token with id "AAAAAAAAAAAA".' });
    });

    test('400 for an id that is not a token id, before any backend call', async () => {
      const calls: string[] = [];
      const provider = t.provider;
      const spy = jest.spyOn(provider, 'get').mockImplementation(async (p) => {
        calls.push(p);
        return null;
      });
      try {
        for (const id of ['..', '%2e%2e', 'a%2Fb', 'x%00y', 'a%20b', 'n'.repeat(201)]) {
          for (const res of [
            await get(`/tokens/${id}`),
            await request(t.app).delete(`${t.base}/tokens/${id}`).set(bearer(t.adminToken)),
            await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(bearer(t.adminToken)).send({}),
          ]) {
            expect(res.status).toBe(400);
            expect(res.body.error.message).toMatch(/not a token id/);
          }
        }
        const badEscape = await get('/tokens/%zz');
        expect(badEscape.status).toBe(400);
        expect(badEscape.body.error.code).toBe('invalid_request');
        expect(calls).toEqual([]);
      } finally {
        spy.mockRestore();
      }
    });
  });
}
