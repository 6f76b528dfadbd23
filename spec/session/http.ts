// The HTTP behaviour suite: express + express-session + supertest on express 4 and 5, run with
// identical assertions on each store backend.
import type { Store } from 'express-session';
import request from 'supertest';
import { expiryApp, type ExpressFactory, expressVersions, sessionApp, sessionCookie } from './app';
import type { Backend, SuiteStore } from './backends';
import { sleep } from '../support/sleep';

export function httpSuite(makeBackend: () => Backend | Promise<Backend>): void {
  let backend: Backend;
  beforeAll(async () => {
    backend = await makeBackend();
  });
  afterAll(async () => {
    await backend?.teardown();
  });

  describe.each(expressVersions)('%s', (_label: string, express: ExpressFactory) => {
    let store: SuiteStore;
    const app = () => sessionApp(express, store as unknown as Store);
    beforeEach(() => {
      store = backend.create(backend.namespace());
    });
    afterEach(() => jest.restoreAllMocks());

    test('saveUninitialized:false — a visit that stores nothing sets no cookie and writes nothing', async () => {
      const res = await request(app()).get('/me').expect(200);
      expect(res.body.user).toBeNull();
      expect(sessionCookie(res)).toBeNull();
      expect(await store.length()).toBe(0);
    });

    test('login sets the cookie; the session is read back on the next request', async () => {
      const agent = request.agent(app());
      const login = await agent.post('/login').expect(200);
      expect(sessionCookie(login)).toMatch(/^connect\.sid=/);
      await agent.get('/me').expect(200, { user: 'alice', sid: login.body.sid });
      expect(await store.get(login.body.sid)).toMatchObject({ user: 'alice' });
    });

    test('resave:false + rolling:true — an unmodified request touches (not sets) and re-sends the cookie', async () => {
      const agent = request.agent(app());
      const { body } = await agent.post('/login').expect(200);
      const expiresAt = async () => Date.now() + ((await backend.remainingMs(store, body.sid)) as number);
      const before = await expiresAt();
      const set = jest.spyOn(store, 'set');
      const touch = jest.spyOn(store, 'touch');
      await sleep(1_100);
      const res = await agent.get('/me').expect(200);
      expect(sessionCookie(res)).toMatch(/^connect\.sid=/);
      expect(set).not.toHaveBeenCalled();
      expect(touch).toHaveBeenCalledTimes(1);
      expect(await expiresAt()).toBeGreaterThan(before + 500); // moved forward by the ~1.1 s waited
    });

    test('a modified session is saved (set) and read back', async () => {
      const agent = request.agent(app());
      await agent.post('/count').expect(200, { n: 1 });
      await agent.post('/count').expect(200, { n: 2 });
      await agent.post('/count').expect(200, { n: 3 });
    });

    test('unset:"destroy" — logout removes the session from the store; the old cookie no longer works', async () => {
      const agent = request.agent(app());
      const { body } = await agent.post('/login').expect(200);
      await agent.post('/logout').expect(200);
      expect(await store.get(body.sid)).toBeNull();
      const after = await agent.get('/me').expect(200);
      expect(after.body.user).toBeNull();
      expect(after.body.sid).not.toBe(body.sid);
    });

    test('regenerate gives a new id and destroys the old session', async () => {
      const agent = request.agent(app());
      const { body: first } = await agent.post('/login').expect(200);
      const { body: second } = await agent.post('/regenerate').expect(200);
      expect(second.sid).not.toBe(first.sid);
      expect(await store.get(first.sid)).toBeNull();
      await agent.get('/me').expect(200, { user: 'alice', sid: second.sid });
    });

    test('reload re-reads the stored session, dropping unsaved changes', async () => {
      const agent = request.agent(app());
      await agent.post('/login').expect(200);
      await agent.post('/reload').expect(200, { user: 'alice', scratch: null });
    });

    test('a change only to cookie.maxAge is applied by touch', async () => {
      const agent = request.agent(app());
      const { body } = await agent.post('/login').expect(200);
      await agent.post('/maxage?ms=5000').expect(200);
      const left = (await backend.remainingMs(store, body.sid)) as number;
      expect(left).toBeLessThanOrEqual(5_000 + backend.expiryGranularityMs);
      expect(left).toBeGreaterThan(3_000);
    });

    test(
      "express-session's own 5 ms maxAge case — DELIBERATE DIFFERENCE: passes on SecretsSessionStore " +
        '(ms expiry); connect-redis rounds to a second and still returns the session',
      async () => {
        const server = expiryApp(express, store as unknown as Store);
        const first = await request(server).get('/').expect(200, 'session 1');
        const cookie = sessionCookie(first) as string;
        await sleep(20);
        const second = await request(server).get('/').set('Cookie', cookie).expect(200);
        if (backend.expiryGranularityMs === 1) {
          expect(second.text).toBe('session 2');
          expect(sessionCookie(second)).not.toBe(cookie); // a new sid
          await sleep(10);
          expect(await store.all()).toEqual([]);
        } else {
          expect(second.text).toBe('session 1');
        }
      },
    );
  });
}
