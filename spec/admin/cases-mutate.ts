import request from 'supertest';
import { parseToken } from '../../lib/tokens/format';
import { type AdminApp, bearer, makeAdminApp, tokenEvents } from './helpers';

export function mutateCases(): void {
  describe('DELETE /tokens/:id and POST /tokens/:id/rotate', () => {
    let t: AdminApp;
    beforeEach(async () => {
      t = await makeAdminApp({ router: { maxGrace: '1d' } });
    });
    const admin = bearer('');
    const as = () => ({ ...admin, ...bearer(t.adminToken) });
    const issue = async () =>
      (
        await request(t.app)
          .post(`${t.base}/tokens`)
          .set(as())
          .send({ name: 'svc', scopes: ['read'], expires_in: '30d' })
      ).body as { token: string; id: string };
    const data = (token: string) => request(t.app).get('/api/data').set(bearer(token));

    test('DELETE: 204, the token stops working at once, then 404', async () => {
      const { token, id } = await issue();
      expect((await data(token)).status).toBe(200);
      const res = await request(t.app).delete(`${t.base}/tokens/${id}`).set(as());
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await data(token)).status).toBe(401);
      expect((await request(t.app).get(`${t.base}/tokens/${id}`).set(as())).status).toBe(404);
      const again = await request(t.app).delete(`${t.base}/tokens/${id}`).set(as());
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found');
    });

    test('DELETE and rotate of a config token: 409 read_only telling to edit the configuration', async () => {
      for (const res of [
        await request(t.app).delete(`${t.base}/tokens/deploy-bot`).set(as()),
        await request(t.app).post(`${t.base}/tokens/deploy-bot/rotate`).set(as()).send({}),
      ]) {
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('read_only');
        expect(res.body.error.message).toMatch(/comes from configuration.*change the configuration/);
      }
      expect(t.audit).toHaveLength(0);
    });

    test('rotate: 201 with a new token (same id) shown once; without grace the old one stops at once', async () => {
      const { token, id } = await issue();
      const res = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).send({});
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(parseToken(res.body.token, 'esa')?.id).toBe(id);
      expect(res.body.token).not.toBe(token);
      expect(res.body).toMatchObject({ id, name: 'svc', previous_expires_at: null, rotated_at: expect.any(String) });
      expect((await data(token)).status).toBe(401);
      expect((await data(res.body.token)).status).toBe(200);
    });

    test('rotate with grace: the old token keeps working until previous_expires_at', async () => {
      const { token, id } = await issue();
      const res = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).send({ grace: '1h' });
      expect(res.status).toBe(201);
      expect(Date.parse(res.body.previous_expires_at) - t.clock.now).toBe(3_600_000);
      expect((await data(token)).status).toBe(200);
      expect((await data(res.body.token)).status).toBe(200);
    });

    test('rotate with expires_in gives a new lifetime', async () => {
      const { id } = await issue();
      const res = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).send({ expires_in: '90d' });
      expect(Date.parse(res.body.expires_at) - t.clock.now).toBe(90 * 86_400_000);
    });

    test.each([
      ['grace over maxGrace', { grace: '2d' }, /grace must be at most 86400 seconds \(1 day\)/],
      ['grace not a duration', { grace: 'later' }, /grace must be a number of seconds or a duration/],
      ['an unknown field', { grace: 60, force: true }, /Unknown field\(s\): "force"/],
      ['expires_in below a minute', { expires_in: 5 }, /at least 60 seconds/],
      ['a body that is a list', [], /must be a JSON object/],
    ])('rotate: 400 for %s, and nothing changes', async (_what, body, message) => {
      const { token, id } = await issue();
      const res = await request(t.app)
        .post(`${t.base}/tokens/${id}/rotate`)
        .set(as())
        .send(body as object);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
      expect((await data(token)).status).toBe(200);
    });

    test('rotate and revoke: 404 for an unknown id (well-formed or not); rotate: 415 without a JSON content type', async () => {
      for (const id of ['AAAAAAAAAAAA', 'abc', 'not-a-token-id']) {
        const res = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).send({});
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
        expect((await request(t.app).delete(`${t.base}/tokens/${id}`).set(as())).status).toBe(404);
      }
      const { id } = await issue();
      const form = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).type('form').send('grace=0');
      expect(form.status).toBe(415);
    });

    test('audit: create, rotate and revoke each emit who/what/when to onAudit and the logger, never the token', async () => {
      const { token, id } = await issue();
      const rotated = await request(t.app).post(`${t.base}/tokens/${id}/rotate`).set(as()).send({ grace: 60 });
      await request(t.app).delete(`${t.base}/tokens/${id}`).set(as());
      expect(t.audit.map((e) => e.action)).toEqual(['token.create', 'token.rotate', 'token.revoke']);
      for (const e of tokenEvents(t.audit)) {
        expect(e.actor).toEqual({ name: 'root-admin', tokenId: parseToken(t.adminToken, 'esa')?.id, source: 'store' });
        expect(e.token).toEqual({ id, name: 'svc', scopes: ['read'] });
        expect(e.at).toBe(new Date(t.clock.now).toISOString());
        expect(e.ip).toMatch(/127\.0\.0\.1/);
      }
      expect(t.audit[1].details).toMatchObject({ grace_seconds: 60 });
      const lines = t.logs.filter((l) => l.includes('audit:'));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(new RegExp(`^info express-secrets-auth audit: token.create token=${id} name="svc" by="root-admin"`));
      const everything = JSON.stringify(t.audit) + t.logs.join('\n');
      for (const secret of [token, rotated.body.token, t.adminToken]) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/\$2[aby]\$/);
    });

    test('a failing onAudit hook is logged and does not fail the request', async () => {
      const r = await makeAdminApp({
        router: {
          onAudit: () => {
            throw new Error('audit sink down');
          },
        },
      });
      const res = await request(r.app).post(`${r.base}/tokens`).set(bearer(r.adminToken)).send({ name: 'x' });
      expect(res.status).toBe(201);
      expect(r.logs.some((l) => l.startsWith('error') && l.includes('onAudit failed'))).toBe(true);
    });
  });
}
