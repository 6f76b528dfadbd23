import request from 'supertest';
import { parseToken } from '../../lib/tokens/format';
import { type AdminApp, bearer, makeAdminApp } from './helpers';

const DAY = 86_400;

export function createCases(): void {
  describe('POST /tokens', () => {
    let t: AdminApp;
    beforeEach(async () => {
      t = await makeAdminApp({ router: { maxTtl: '365d' } });
    });
    const post = (body: unknown) =>
      request(t.app)
        .post(`${t.base}/tokens`)
        .set(bearer(t.adminToken))
        .send(body as object);

    test('201 with the token shown once, no-store, Location, metadata and created_by = the caller', async () => {
      const res = await post({ name: 'ci', description: 'CI pipeline', scopes: ['read', 'write', 'read'], expires_in: '30d' });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.location).toBe(`${t.base}/tokens/${res.body.id}`);
      expect(parseToken(res.body.token, 'esa')?.id).toBe(res.body.id);
      expect(res.body).toMatchObject({
        name: 'ci',
        description: 'CI pipeline',
        scopes: ['read', 'write'],
        source: 'store',
        state: 'active',
        created_by: 'root-admin',
        delivery_path: null,
      });
      expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(30 * DAY * 1000);
      expect(JSON.stringify(res.body)).not.toMatch(/bcrypt|\$2[aby]\$|sha256|hash/i);
      const used = await request(t.app).get('/api/data').set(bearer(res.body.token));
      expect(used.status).toBe(200);
      expect(used.body).toEqual({ ok: true, who: 'ci' });
      const again = await request(t.app).get(`${t.base}/tokens/${res.body.id}`).set(bearer(t.adminToken));
      expect(again.body.token).toBeUndefined();
    });

    test('expires_in takes seconds or durations; the name is trimmed', async () => {
      const res = await post({ name: '  spaced  ', expires_in: 7 * DAY });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe('spaced');
      expect(Date.parse(res.body.expires_at) - t.clock.now).toBe(7 * DAY * 1000);
    });

    test('expires_at is stored exactly as given (the end of a picked day stays on that day)', async () => {
      const endOfDay = new Date(t.clock.now + 20 * DAY * 1000);
      endOfDay.setUTCHours(23, 59, 59, 999);
      const res = await post({ name: 'custom-date', expires_at: endOfDay.toISOString() });
      expect(res.status).toBe(201);
      expect(res.body.expires_at).toBe(endOfDay.toISOString());
      expect((await t.store.get(res.body.id))?.expiresAt).toBe(endOfDay.toISOString());
      const utc = new Date(t.clock.now + 10 * DAY * 1000);
      utc.setUTCHours(22, 59, 59, 999);
      const local = `${utc.toISOString().slice(0, 10)}T23:59:59.999+01:00`; // the same instant, written in UTC+1
      const offset = await post({ name: 'with-offset', expires_at: local });
      expect(offset.status).toBe(201);
      expect(offset.body.expires_at).toBe(utc.toISOString());
    });

    test.each([
      ['expires_at and expires_in', (now: number) => ({ name: 'a', expires_in: 60, expires_at: new Date(now + DAY * 1000).toISOString() }), /not both/],
      ['expires_at in the past', (now: number) => ({ name: 'a', expires_at: new Date(now - 1000).toISOString() }), /at least 60 seconds in the future/],
      [
        'expires_at past maxTtl',
        (now: number) => ({ name: 'a', expires_at: new Date(now + 366 * DAY * 1000).toISOString() }),
        /at most 31536000 seconds from now \(maxTtl\)/,
      ],
      ['expires_at without an offset', () => ({ name: 'a', expires_at: '2030-01-01T00:00:00' }), /ISO 8601 time with an offset/],
      ['expires_at a number', (now: number) => ({ name: 'a', expires_at: now + DAY * 1000 }), /ISO 8601/],
    ])('400 invalid_request for %s', async (_what, body, message) => {
      const res = await post(body(t.clock.now));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    });

    test.each([
      ['missing name', { expires_in: 60 }, /name is required/],
      ['empty name', { name: '', expires_in: 60 }, /name is required: 1-100/],
      ['blank name', { name: '   ', expires_in: 60 }, /name is required/],
      ['name of 101 characters', { name: 'n'.repeat(101), expires_in: 60 }, /1-100 characters/],
      ['name not a string', { name: 42, expires_in: 60 }, /name is required/],
      ['description of 501 characters', { name: 'a', description: 'd'.repeat(501), expires_in: 60 }, /at most 500/],
      ['description not a string', { name: 'a', description: ['x'], expires_in: 60 }, /description must be a string/],
      ['scopes not a list', { name: 'a', scopes: 'admin', expires_in: 60 }, /scopes must be a list/],
      ['a scope with a space', { name: 'a', scopes: ['read all'], expires_in: 60 }, /Each scope/],
      ['a scope not a string', { name: 'a', scopes: [1], expires_in: 60 }, /Each scope/],
      ['too many scopes', { name: 'a', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`), expires_in: 60 }, /at most 50/],
      ['expires_in not a duration', { name: 'a', expires_in: 'soon' }, /expires_in must be a number of seconds or a duration/],
      ['expires_in negative', { name: 'a', expires_in: -5 }, /expires_in must be/],
      ['expires_in zero', { name: 'a', expires_in: 0 }, /at least 60 seconds/],
      ['expires_in a boolean', { name: 'a', expires_in: true }, /expires_in must be/],
      ['expires_in over maxTtl', { name: 'a', expires_in: '366d' }, /at most 31536000 seconds \(maxTtl\)/],
      ['expires_in null under maxTtl', { name: 'a', expires_in: null }, /cannot be null/],
      ['expires_in absent under maxTtl', { name: 'a' }, /expires_in \(or expires_at\) is required/],
      ['an unknown field', { name: 'a', expires_in: 60, admin: true }, /Unknown field\(s\): "admin"/],
      ['a body that is a list', [{ name: 'a' }], /must be a JSON object/],
      ['delivery_path without autoRotate', { name: 'a', expires_in: 60, delivery_path: 'apps/x' }, /autoRotate/],
    ])('400 invalid_request for %s', async (_what, body, message) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(message);
      expect(await t.store.list()).toHaveLength(2); // root-admin and the config token only
    });

    test('without maxTtl, an expires_in past any valid date is a 400, not a 500', async () => {
      const open = await makeAdminApp();
      for (const expires_in of ['9999999999999999999d', 1e300, '5280w']) {
        const res = await request(open.app).post(`${open.base}/tokens`).set(bearer(open.adminToken)).send({ name: 'far', expires_in });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_request');
      }
      expect((await request(open.app).post(`${open.base}/tokens`).set(bearer(open.adminToken)).send({ name: 'long', expires_in: '36500d' })).status).toBe(201);
      expect(open.logs.filter((m) => m.includes('unexpected'))).toEqual([]);
    });

    test('boundaries: a 100-character name and a 500-character description are accepted', async () => {
      const res = await post({ name: 'n'.repeat(100), description: 'd'.repeat(500), expires_in: '365d' });
      expect(res.status).toBe(201);
    });

    test('400 invalid_json for malformed JSON and for a JSON scalar', async () => {
      for (const raw of ['{"name": ', '"just a string"']) {
        const res = await request(t.app).post(`${t.base}/tokens`).set(bearer(t.adminToken)).set('Content-Type', 'application/json').send(raw);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_json');
      }
    });

    test('413 payload_too_large above 16 KB; 16 KB of JSON is read', async () => {
      const big = await post({ name: 'a', description: 'x'.repeat(17 * 1024), expires_in: 60 });
      expect(big.status).toBe(413);
      expect(big.body.error).toEqual({ code: 'payload_too_large', message: expect.stringContaining('16 KB') });
      const padded = `{"name": "a", "expires_in": 60${' '.repeat(15 * 1024)}}`;
      const fits = await request(t.app).post(`${t.base}/tokens`).set(bearer(t.adminToken)).set('Content-Type', 'application/json').send(padded);
      expect(fits.status).toBe(201);
    });

    test('415 for a body that is not JSON (a form post), before anything is created', async () => {
      const res = await request(t.app).post(`${t.base}/tokens`).set(bearer(t.adminToken)).type('form').send('name=a');
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
      const none = await request(t.app).post(`${t.base}/tokens`).set(bearer(t.adminToken));
      expect(none.status).toBe(415);
    });

    test('403 for a cross-site request (Sec-Fetch-Site)', async () => {
      const res = await post({ name: 'a', expires_in: 60 }).set('Sec-Fetch-Site', 'cross-site');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    });

    test('allowedScopes restricts the scopes a token may get', async () => {
      const r = await makeAdminApp({ router: { allowedScopes: ['read', 'write'] } });
      const ok = await request(r.app)
        .post(`${r.base}/tokens`)
        .set(bearer(r.adminToken))
        .send({ name: 'a', scopes: ['read'] });
      expect(ok.status).toBe(201);
      const no = await request(r.app)
        .post(`${r.base}/tokens`)
        .set(bearer(r.adminToken))
        .send({ name: 'a', scopes: ['admin'] });
      expect(no.status).toBe(400);
      expect(no.body.error.message).toMatch(/Scope "admin" is not allowed\. Allowed: read, write/);
    });

    test('without maxTtl, expires_in null creates a token that never expires, absent uses the store default', async () => {
      const r = await makeAdminApp({ store: { ttl: '1d' } });
      const never = await request(r.app).post(`${r.base}/tokens`).set(bearer(r.adminToken)).send({ name: 'a', expires_in: null });
      expect(never.status).toBe(201);
      expect(never.body.expires_at).toBeNull();
      const dflt = await request(r.app).post(`${r.base}/tokens`).set(bearer(r.adminToken)).send({ name: 'b' });
      expect(Date.parse(dflt.body.expires_at) - r.clock.now).toBe(DAY * 1000);
    });

    test("the store's own maxTtl refusal is a 400 too", async () => {
      const r = await makeAdminApp({ store: { maxTtl: '1d' } });
      const res = await request(r.app).post(`${r.base}/tokens`).set(bearer(r.adminToken)).send({ name: 'a', expires_in: '2d' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    });
  });
}
