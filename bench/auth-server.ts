// The app `bench/auth.ts` loads: one Express 5 app, run in its own process so autocannon does not
// share its event loop. Routes: /none (no auth), /static (a static token), /stored (a stored
// token, bcrypt-hashed in a TokenStore). bearerAuth runs with its defaults, rate limiter included.
import express from 'express';
import { createMemoryProvider } from '../lib/providers/memory';
import { bearerAuth } from '../lib/tokens/middleware';
import { TokenStore } from '../lib/tokens/store';

/** What the server tells its parent once it listens. */
export interface AuthServerReady {
  port: number;
  staticToken: string;
  storedToken: string;
  /** Tokens of stores with the verify cache off: bcrypt on every request, at cost 10 and 12. */
  uncached10Token: string;
  uncached12Token: string;
}

async function main(): Promise<void> {
  const staticToken = 'bench-static-credential-0123456789abcdef';
  const store = new TokenStore({
    provider: createMemoryProvider(),
    staticTokens: [{ name: 'bench-static', credential: staticToken, scopes: ['read'] }],
  });
  const { token: storedToken } = await store.create({ name: 'bench-stored', scopes: ['read'] });
  const auth = bearerAuth({ tokens: store, scopes: ['read'], rateLimit: process.env.BENCH_NO_LIMIT ? false : undefined });
  // The verification cache turned off: what every request would cost without it.
  const uncached = async (bcryptCost: number) => {
    const tokens = new TokenStore({ provider: createMemoryProvider(), bcryptCost, verifyCacheTtlMs: 0 });
    const { token } = await tokens.create({ name: `bench-uncached-${bcryptCost}`, scopes: ['read'] });
    return { token, auth: bearerAuth({ tokens, scopes: ['read'], rateLimit: false }) };
  };
  const [u10, u12] = [await uncached(10), await uncached(12)];
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  const ok = (_req: express.Request, res: express.Response) => {
    res.json({ ok: true });
  };
  app.get('/none', ok);
  // Reference floor for any auth middleware: one extra layer that only sets req.auth.
  const fixed = Object.freeze({ tokenId: 'x', name: 'x', scopes: ['read'], source: 'store' as const });
  app.get(
    '/floor',
    (req, _res, next) => {
      req.auth = fixed;
      next();
    },
    ok,
  );
  app.get('/static', auth, ok);
  app.get('/stored', auth, ok);
  app.get('/uncached10', u10.auth, ok);
  app.get('/uncached12', u12.auth, ok);
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.send?.({ port, staticToken, storedToken, uncached10Token: u10.token, uncached12Token: u12.token } satisfies AuthServerReady);
  });
  // CPU time the server has used, asked for around each load run: µs of CPU per request is far less
  // disturbed by other load on the machine than requests/s.
  process.on('message', (msg) => {
    if (msg === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    }
  });
  process.on('disconnect', () => process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0)); // exits cleanly, so --cpu-prof writes its profile
}

void main();
