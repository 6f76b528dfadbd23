// The app instance of the HA specs: express 5 + express-session on SecretsSessionStore +
// bearerAuth on a TokenStore, both on one Vault provider (every node of the cluster in `addresses`).
//   POST /login?user=   new session, saved before answering ({ sid })
//   POST /count         bearer-protected: increments the session's counter ({ n })
//   GET  /state         the session's { user, n } (401 without a session)
//   POST /logout        destroys the session
//   GET  /api/data      bearer-protected
// A BackendUnavailableError is a 503, anything else a 500; every error is logged.
import express from 'express';
import session from 'express-session';
import { bearerAuth, type SecretProvider, SecretsSessionStore, TokenStore } from '../../lib';
import { appErrorHandler, listen, type Listening, recordingLogger } from '../reliability/harness';

export interface HaInstance {
  url: string;
  store: SecretsSessionStore;
  tokens: TokenStore;
  logs: string[];
  close(): Promise<void>;
}

export async function startInstance(provider: SecretProvider, opts: { prefix: string; verifyCacheTtlMs: number }): Promise<HaInstance> {
  const logger = recordingLogger();
  const store = new SecretsSessionStore({ provider, path: `${opts.prefix}/sessions`, cleanupIntervalMs: false });
  const tokens = new TokenStore({ provider, path: `${opts.prefix}/tokens`, bcryptCost: 4, verifyCacheTtlMs: opts.verifyCacheTtlMs, logger });
  const app = express();
  app.use(session({ store, secret: 'ha-spec-session-secret', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  const auth = bearerAuth({ tokens, rateLimit: false, logger });
  app.post('/login', (req, res, next) => {
    req.session.user = String(req.query.user ?? 'anon');
    req.session.n = 0;
    req.session.save((err) => (err ? next(err) : res.json({ sid: req.sessionID })));
  });
  app.post('/count', auth, (req, res, next) => {
    if (!req.session.user) {
      res.status(401).json({ error: 'no session' });
      return;
    }
    req.session.n = (req.session.n ?? 0) + 1;
    const n = req.session.n;
    req.session.save((err) => (err ? next(err) : res.json({ n })));
  });
  app.get('/state', (req, res) => {
    if (!req.session.user) {
      res.status(401).json({ user: null });
      return;
    }
    res.json({ user: req.session.user, n: req.session.n });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/api/data', auth, (req, res) => {
    res.json({ ok: true, who: req.auth?.name });
  });
  app.use(appErrorHandler(logger));
  const listening: Listening = await listen(app);
  return {
    url: listening.url,
    store,
    tokens,
    logs: logger.messages,
    close: async () => {
      await listening.close();
      await tokens.close();
      await store.close();
    },
  };
}
