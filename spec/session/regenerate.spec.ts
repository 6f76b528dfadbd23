// regenerate() (a login): a session express-session made in this request was never stored, so it
// ends without a backend call; any session that may be stored (read, saved, or given to a save that
// failed) is deleted as before. On OpenBao a login is then one request instead of two.
import express from 'express';
import session, { type Store } from 'express-session';
import request from 'supertest';
import { createMemoryProvider, SecretsSessionStore } from '../../lib';
import type { SecretProvider } from '../../lib/providers/types';
import { describeWith } from '../support/components';
import { uniquePrefix } from '../support/vault';
import { openbaoProvider } from './backends';

declare module 'express-session' {
  interface SessionData {
    user?: string;
  }
}

function loginApp(store: Store) {
  const app = express();
  app.use(session({ store, secret: 'spec-secret', resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }));
  const login = (req: express.Request, res: express.Response, next: express.NextFunction) =>
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = 'alice';
      res.json({ sid: req.sessionID });
    });
  app.post('/login', login);
  // A session saved earlier in the same request, then regenerated: it is stored, so it must end.
  app.post('/save-then-login', (req, res, next) => {
    req.session.user = 'anonymous';
    const savedSid = req.sessionID;
    req.session.save((err) => {
      if (err) return next(err);
      req.session.regenerate((err2) => {
        if (err2) return next(err2);
        res.json({ savedSid, sid: req.sessionID });
      });
    });
  });
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, sid: req.sessionID }));
  return app;
}

function counted(provider: SecretProvider) {
  const calls = { delete: 0 };
  const wrapped: SecretProvider = {
    ...provider,
    delete: (path) => {
      calls.delete++;
      return provider.delete(path);
    },
  };
  return { provider: wrapped, calls };
}

describe('regenerate', () => {
  test('a fresh session (no cookie) ends without a delete or a destroy event; the new one is stored and read back', async () => {
    const { provider, calls } = counted(createMemoryProvider());
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    const destroyed: string[] = [];
    store.on('destroy', (sid: string) => destroyed.push(sid));
    const agent = request.agent(loginApp(store));
    const { body } = await agent.post('/login').expect(200);
    expect(calls.delete).toBe(0);
    expect(destroyed).toEqual([]);
    await agent.get('/me').expect(200, { user: 'alice', sid: body.sid });
    expect(await store.length()).toBe(1);
  });

  test('a session read from the store is deleted: the old id no longer loads', async () => {
    const { provider, calls } = counted(createMemoryProvider());
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    const agent = request.agent(loginApp(store));
    const first = await agent.post('/login').expect(200);
    const second = await agent.post('/login').expect(200); // has the first session's cookie: it is loaded
    expect(second.body.sid).not.toBe(first.body.sid);
    expect(calls.delete).toBe(1);
    expect(await store.get(first.body.sid)).toBeNull();
    expect(await store.length()).toBe(1);
  });

  test('a session saved earlier in the same request is deleted', async () => {
    const { provider, calls } = counted(createMemoryProvider());
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    const { body } = await request(loginApp(store)).post('/save-then-login').expect(200);
    expect(calls.delete).toBe(1);
    expect(await store.get(body.savedSid)).toBeNull();
  });

  test('a save started but not awaited before regenerate: the delete is still sent', async () => {
    const { provider, calls } = counted(createMemoryProvider());
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    const app = express();
    app.use(session({ store, secret: 'spec-secret', resave: false, saveUninitialized: false }));
    app.post('/x', (req, res) => {
      req.session.user = 'anonymous';
      const savedSid = req.sessionID;
      req.session.save(); // fire and forget
      req.session.regenerate(() => res.json({ savedSid }));
    });
    await request(app).post('/x').expect(200);
    // The save is noted when it is called, not when its work starts. (Which of the racing write and
    // delete lands last is the app's race, as with connect-redis; the id's cookie was never sent.)
    expect(calls.delete).toBe(1);
  });

  test('a session whose save failed may still be stored: it is deleted', async () => {
    const memory = createMemoryProvider();
    let failPuts = true;
    // The write reaches the backend, but its answer is an error (a lost answer, as after a timeout).
    const provider: SecretProvider = {
      ...memory,
      put: async (path, data, opts) => {
        const written = await memory.put(path, data, opts);
        if (failPuts) throw new Error('answer lost');
        return written;
      },
    };
    const { provider: wrapped, calls } = counted(provider);
    const store = new SecretsSessionStore({ provider: wrapped, cleanupIntervalMs: false });
    const app = express();
    app.use(session({ store, secret: 'spec-secret', resave: false, saveUninitialized: false }));
    app.post('/x', (req, res) => {
      req.session.user = 'anonymous';
      const savedSid = req.sessionID;
      req.session.save((saveErr) => {
        failPuts = false;
        req.session.regenerate(() => res.json({ savedSid, saveFailed: Boolean(saveErr) }));
      });
    });
    const { body } = await request(app).post('/x').expect(200);
    expect(body.saveFailed).toBe(true);
    expect(calls.delete).toBe(1);
    expect(await store.get(body.savedSid)).toBeNull();
  });
});

describeWith('openbao', 'regenerate on OpenBao KV v2', () => {
  test('a login without a cookie is one request (the create); with a loaded session, two (the delete and the create)', async () => {
    const provider = openbaoProvider();
    const path = uniquePrefix('regenerate');
    const store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: false });
    await provider.get(`${path}/warm-up`); // the token lookup and the mount check happen once, here
    const agent = request.agent(loginApp(store));
    let before = provider.requestCount;
    const first = await agent.post('/login').expect(200);
    expect(provider.requestCount - before).toBe(1);
    before = provider.requestCount;
    await agent.post('/login').expect(200);
    expect(provider.requestCount - before).toBe(3); // the read of the cookie's session, its delete, the create
    expect(await store.get(first.body.sid)).toBeNull();
    await provider.close();
  });
});
