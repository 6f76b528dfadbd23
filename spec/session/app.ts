// A small Express app using express-session the way the issue asks (resave:false,
// saveUninitialized:false, rolling:true, unset:'destroy'), for the HTTP specs.
import type { ErrorRequestHandler, Express } from 'express';
import express5 from 'express';
import session, { type Store } from 'express-session';

declare module 'express-session' {
  interface SessionData {
    user?: string;
    n?: number;
    scratch?: string;
    num?: number;
  }
}

export type ExpressFactory = typeof express5;
// express@4 under an npm alias (no types of its own); same call shape for what we use.
export const express4 = require('express4') as ExpressFactory;
export const expressVersions: Array<[string, ExpressFactory]> = [
  ['express 4', express4],
  ['express 5', express5],
];

const onError: ErrorRequestHandler = (err, _req, res, _next) => {
  res.status(500).json({ error: (err as Error).name });
};

export function sessionApp(express: ExpressFactory, store: Store, cookie: session.CookieOptions = { maxAge: 60_000 }): Express {
  const app = express();
  app.use(session({ store, secret: 'spec-secret', resave: false, saveUninitialized: false, rolling: true, unset: 'destroy', cookie }));
  app.post('/login', (req, res) => {
    req.session.user = String(req.query.user ?? 'alice');
    res.json({ sid: req.sessionID });
  });
  app.post('/login-and-save', (req, res, next) => {
    // Errors of the save express-session does at response end cannot change the status (the
    // response is already under way); an explicit save before responding can.
    req.session.user = String(req.query.user ?? 'alice');
    req.session.save((err) => (err ? next(err) : res.json({ sid: req.sessionID })));
  });
  app.get('/me', (req, res) => {
    res.json({ user: req.session.user ?? null, sid: req.sessionID });
  });
  app.post('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n });
  });
  app.post('/logout', (req, res) => {
    (req as { session: unknown }).session = null; // unset: 'destroy' removes it from the store
    res.json({ ok: true });
  });
  app.post('/regenerate', (req, res, next) => {
    const user = req.session.user;
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user;
      res.json({ sid: req.sessionID });
    });
  });
  app.post('/reload', (req, res, next) => {
    req.session.scratch = 'not saved';
    req.session.reload((err) => {
      if (err) return next(err);
      res.json({ user: req.session.user ?? null, scratch: req.session.scratch ?? null });
    });
  });
  app.post('/maxage', (req, res) => {
    req.session.cookie.maxAge = Number(req.query.ms);
    res.json({ ok: true });
  });
  app.use(onError);
  return app;
}

/** express-session's own expiry test app: `cookie.maxAge` 5 ms, default saveUninitialized (true). */
export function expiryApp(express: ExpressFactory, store: Store): Express {
  let count = 0;
  const app = express();
  app.use(session({ store, secret: 'spec-secret', resave: false, cookie: { maxAge: 5 } }));
  app.get('/', (req, res) => {
    req.session.num = req.session.num || ++count;
    res.end(`session ${req.session.num}`);
  });
  return app;
}

/** The `name=value` pair of the session cookie in a response, or null. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string | null {
  const header = res.headers['set-cookie'] as string[] | undefined;
  const found = header?.find((c) => c.startsWith('connect.sid='));
  return found ? found.split(';')[0] : null;
}
