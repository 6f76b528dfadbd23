import request from 'supertest';
import { tokenAdminRouter } from '../../lib';
import type { SessionAuditEvent } from '../../lib/admin/types';
import { type AdminApp, bearer, makeAdminApp } from './helpers';
import { makeSessionApp as sessionApp } from './session-app';

const sessionEvents = (t: AdminApp): SessionAuditEvent[] => t.audit.filter((e): e is SessionAuditEvent => 'session' in e);

export function sessionCases(): void {
  describe('sessions of a user (option `sessions`)', () => {
    let s: Awaited<ReturnType<typeof sessionApp>>;
    let t: AdminApp;
    beforeEach(async () => {
      s = await sessionApp();
      t = s.t;
    });
    afterEach(() => s.store.close());
    const as = () => bearer(t.adminToken);

    test('GET /sessions?user= lists that user’s sessions by key, with ISO times, never a session id', async () => {
      const a1 = await s.login('alice@example.com');
      const a2 = await s.login('alice@example.com');
      await s.login('bob@example.com');
      const res = await request(t.app).get(`${t.base}/sessions`).query({ user: 'alice@example.com' }).set(as());
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.user).toBe('alice@example.com');
      expect(res.body.sessions.map((x: { key: string }) => x.key).sort()).toEqual([a1.key, a2.key].sort());
      for (const x of res.body.sessions) {
        expect(Object.keys(x).sort()).toEqual(['created_at', 'expires_at', 'key', 'last_seen_at']);
        expect(Date.parse(x.created_at)).toBeGreaterThan(Date.now() - 60_000);
        expect(Date.parse(x.expires_at)).toBeGreaterThan(Date.now());
      }
      const sid = decodeURIComponent(a1.cookie.split('=')[1]).slice(2).split('.')[0];
      expect(res.text).not.toContain(sid);
      const none = await request(t.app).get(`${t.base}/sessions`).query({ user: 'nobody' }).set(as());
      expect(none.body).toEqual({ user: 'nobody', sessions: [] });
    });

    test('DELETE /sessions/:key ends that session at once (its cookie is signed out), then 404', async () => {
      const a1 = await s.login('alice');
      const a2 = await s.login('alice');
      const res = await request(t.app)
        .delete(`${t.base}/sessions/${encodeURIComponent(a1.key)}`)
        .set(as());
      expect(res.status).toBe(204);
      expect(await s.whoami(a1.cookie)).toBeNull();
      expect(await s.whoami(a2.cookie)).toBe('alice');
      const again = await request(t.app)
        .delete(`${t.base}/sessions/${encodeURIComponent(a1.key)}`)
        .set(as());
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found');
      expect(sessionEvents(t).map((e) => [e.action, e.session, e.actor?.name])).toEqual([['session.destroy', { key: a1.key, user: null }, 'root-admin']]);
    });

    test('DELETE /users/:user/sessions ends every session of that user only, with { ended }', async () => {
      const mine = [await s.login('alice@example.com'), await s.login('alice@example.com'), await s.login('alice@example.com')];
      const bob = await s.login('bob@example.com');
      const res = await request(t.app)
        .delete(`${t.base}/users/${encodeURIComponent('alice@example.com')}/sessions`)
        .set(as());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ended: 3 });
      for (const m of mine) expect(await s.whoami(m.cookie)).toBeNull();
      expect(await s.whoami(bob.cookie)).toBe('bob@example.com');
      const [event] = sessionEvents(t);
      expect(event).toMatchObject({ action: 'user.sessions_destroy', session: { key: null, user: 'alice@example.com' }, details: { ended: 3 } });
      expect(t.logs).toContainEqual(
        expect.stringMatching(/^info express-secrets-auth audit: user\.sessions_destroy user="alice@example\.com" by="root-admin" .* ended=3$/),
      );
      expect((await request(t.app).delete(`${t.base}/users/alice@example.com/sessions`).set(as())).body).toEqual({ ended: 0 });
    });

    test.each([
      ['a key of another folder', 'other/sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['a key one character short', 'sessions/sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['a path climbing out', '../tokens/abc'],
      ['a session id instead of a key', 'abcdefghijklmnopqrstuvwxyz012345'],
    ])('DELETE /sessions/:key: 400 for %s, before any backend call', async (_what, key) => {
      const res = await request(t.app)
        .delete(`${t.base}/sessions/${encodeURIComponent(key)}`)
        .set(as());
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(sessionEvents(t)).toHaveLength(0);
    });

    test.each([
      ['no user', {}],
      ['an empty user', { user: '' }],
      ['two users', { user: ['a', 'b'] }],
      ['a user with a control character', { user: 'a\nb' }],
      ['a user longer than 512 characters', { user: 'x'.repeat(513) }],
    ])('GET /sessions: 400 for %s', async (_what, query) => {
      const res = await request(t.app).get(`${t.base}/sessions`).query(query).set(as());
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    });

    test('every session route is guarded and refuses cross-site requests', async () => {
      const key = encodeURIComponent((await s.login('alice')).key);
      for (const res of [
        await request(t.app).get(`${t.base}/sessions?user=alice`),
        await request(t.app).delete(`${t.base}/sessions/${key}`),
        await request(t.app).delete(`${t.base}/users/alice/sessions`),
      ]) {
        expect(res.status).toBe(401);
      }
      const cross = await request(t.app).delete(`${t.base}/users/alice/sessions`).set(as()).set('Sec-Fetch-Site', 'cross-site');
      expect(cross.status).toBe(403);
      expect((await s.store.sessionsOf('alice')).length).toBe(1);
    });

    test('a store without userOf: listing by user is a 501 naming the option; ending by key still works', async () => {
      const bare = await sessionApp({ userOf: false });
      const k = await bare.login('alice');
      const res = await request(bare.t.app).get(`${bare.t.base}/sessions?user=alice`).set(bearer(bare.t.adminToken));
      expect(res.status).toBe(501);
      expect(res.body.error).toEqual({ code: 'not_configured', message: expect.stringContaining('userOf') });
      expect(
        (
          await request(bare.t.app)
            .delete(`${bare.t.base}/sessions/${encodeURIComponent(k.key)}`)
            .set(bearer(bare.t.adminToken))
        ).status,
      ).toBe(204);
      expect(await bare.whoami(k.cookie)).toBeNull();
      await bare.store.close();
    });

    test('without the `sessions` option there are no session routes; a bad `sessions` is a startup error', async () => {
      const plain = await makeAdminApp();
      expect((await request(plain.app).get(`${plain.base}/sessions?user=a`).set(bearer(plain.adminToken))).status).toBe(404);
      expect(() => tokenAdminRouter({ tokens: t.store, sessions: {} as never })).toThrow(/sessions must be a SecretsSessionStore/);
    });
  });
}
