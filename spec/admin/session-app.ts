// A test app with sign-in: express-session on a SecretsSessionStore (with `userOf`), `POST /login?user=`
// and `GET /whoami`, and tokenAdminRouter with the `sessions` option, for the session route and page specs.
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { createMemoryProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { makeAdminApp } from './helpers';

type UserSession = session.SessionData & { user?: string };

/** An app where `POST /login?user=` signs in with express-session on a SecretsSessionStore, and `GET /whoami` says who is signed in. */
export async function makeSessionApp(opts: { userOf?: boolean; provider?: SecretProvider } = {}) {
  const store = new SecretsSessionStore({
    provider: opts.provider ?? createMemoryProvider(),
    cleanupIntervalMs: false,
    ...(opts.userOf === false ? {} : { userOf: (s: session.SessionData) => (s as UserSession).user }),
  });
  const site = express.Router();
  site.use(session({ store, secret: 'spec-cookie-secret', resave: false, saveUninitialized: false, name: 'sid' }));
  site.post('/login', (req, res) => {
    (req.session as UserSession).user = String(req.query.user);
    res.json({ key: store.keyOf(req.sessionID) });
  });
  site.get('/whoami', (req, res) => {
    res.json({ user: (req.session as UserSession).user ?? null });
  });
  const t = await makeAdminApp({ router: { sessions: store }, before: [site] });
  /** Signs `user` in; resolves with the cookie and the session's key. */
  const login = async (user: string) => {
    const res = await request(t.app).post(`/login?user=${encodeURIComponent(user)}`);
    return { cookie: String(res.headers['set-cookie']).split(';')[0], key: res.body.key as string };
  };
  const whoami = async (cookie: string) => (await request(t.app).get('/whoami').set('Cookie', cookie)).body.user as string | null;
  return { t, store, login, whoami };
}
