// Child process of the HTTP section: the Express app with express-session of the stores in
// BENCH_STORES (the section starts one process per store, so no app runs on a heap grown by
// another's sessions), or with none (the ceiling), each on its own port. Runs apart from autocannon
// so the load generator does not share this event loop. Reports `{ ports }` over IPC; 'usage' asks for its CPU time and requests so far; 'stop' shuts it down.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import session, { type Store } from 'express-session';
import type { BenchEnv } from './lib/servers';
import { type BenchStore, createStore, STORES } from './lib/stores';

/** Id of the app without express-session. */
export const NO_SESSION = 'none';

function buildApp(store: Store | null): Express {
  const app = express();
  app.disable('x-powered-by');
  let n = 0;
  if (!store) {
    app.post('/login', (_req, res) => {
      res.cookie('sid', `u-${n++}`, { httpOnly: true }).json({ ok: true });
    });
    app.get('/me', (req, res) => {
      res.json({ userId: /sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? null });
    });
    return app;
  }
  app.use(
    session({
      store,
      name: 'sid',
      secret: 'bench-only-secret-not-used-elsewhere',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 86_400_000, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.post('/login', (req, res, next) => {
    // What a login handler does: a new session id, then the user's fields.
    req.session.regenerate((err) => {
      if (err) return next(err);
      const data = req.session as unknown as Record<string, unknown>;
      data.userId = `u-${100000 + n++}`;
      data.email = `user${n}@example.com`;
      data.roles = ['reader', 'editor'];
      data.loginAt = Date.now();
      res.json({ ok: true });
    });
  });
  app.get('/me', (req, res) => {
    const userId = (req.session as unknown as Record<string, unknown>).userId;
    if (!userId) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    res.json({ userId });
  });
  return app;
}

/** Requests this process has answered (for the server CPU per request). */
let answered = 0;

function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ keepAlive: true }, (req, res) => {
      answered++;
      app(req, res);
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as BenchEnv;
  const ids = (process.env.BENCH_STORES ?? '').split(',').filter(Boolean);
  const stores: BenchStore[] = [];
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  const stop = async (): Promise<void> => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    for (const s of stores) await s.close().catch(() => undefined);
  };
  process.on('message', (msg) => {
    if (msg === 'stop') void stop().finally(() => process.exit(0));
    if (msg === 'usage') {
      const { user, system } = process.cpuUsage();
      process.send?.({ usage: { cpuUs: user + system, userUs: user, requests: answered } });
    }
  });
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  try {
    if (ids.length === 0) {
      const none = await listen(buildApp(null));
      servers.push(none);
      ports[NO_SESSION] = (none.address() as AddressInfo).port;
    }
    for (const id of ids) {
      const def = STORES.find((d) => d.id === id);
      if (!def) throw new Error(`unknown store ${id}`);
      const bench = await createStore(def, env, 'http');
      stores.push(bench);
      const server = await listen(buildApp(bench.store));
      servers.push(server);
      ports[id] = (server.address() as AddressInfo).port;
    }
    process.send?.({ ports });
  } catch (err) {
    process.send?.({ error: (err as Error).stack ?? String(err) });
    await stop();
    process.exit(1);
  }
}

if (require.main === module) void main();
