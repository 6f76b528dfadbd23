// Shared pieces of the reliability specs: the Express app under test (express-session with
// SecretsSessionStore + bearerAuth), a bounded load generator, a raw-socket HTTP client for bytes
// that fetch refuses to send, heap measurement, process-fault detection and figure printing.
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ErrorRequestHandler, Express } from 'express';
import express from 'express';
import session from 'express-session';
import { bearerAuth, type SecretProvider, SecretsAuthError, SecretsSessionStore } from '../../lib';
import type { TokenVerifier } from '../../lib/tokens/types';
import { sleep } from '../support/sleep';

declare module 'express-session' {
  interface SessionData {
    user?: string;
    n?: number;
    client?: string;
  }
}

export const SESSION_SECRET = 'reliability-spec-session-secret';

// ---------------------------------------------------------------------------------------------
// Process faults (unhandled rejections, uncaught exceptions)
// ---------------------------------------------------------------------------------------------

// Inside a spec file Jest hands out a copy of `process`; a function built by the Function
// constructor of a core module's realm sees the real process object (see spec/support/openbao.ts).
const realProcess = (spawn.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

export interface FaultWatch {
  unhandledRejections: string[];
  uncaughtExceptions: string[];
  stop(): void;
}

/** Records every unhandled rejection and uncaught exception of the real process until stop(). */
export function watchProcessFaults(): FaultWatch {
  const watch: FaultWatch = {
    unhandledRejections: [],
    uncaughtExceptions: [],
    stop: () => {
      realProcess.removeListener('unhandledRejection', onRejection);
      realProcess.removeListener('uncaughtException', onException);
    },
  };
  const describeErr = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  const onRejection = (reason: unknown) => void watch.unhandledRejections.push(describeErr(reason));
  const onException = (err: unknown) => void watch.uncaughtExceptions.push(describeErr(err));
  realProcess.on('unhandledRejection', onRejection);
  realProcess.on('uncaughtException', onException);
  return watch;
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed in MB after two full collections. */
export async function settledHeapMb(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed / 1_048_576;
}

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

export interface RecordingLogger {
  messages: string[];
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export function recordingLogger(): RecordingLogger {
  const messages: string[] = [];
  return {
    messages,
    info: (m) => void messages.push(`info ${m}`),
    warn: (m) => void messages.push(`warn ${m}`),
    error: (m) => void messages.push(`error ${m}`),
  };
}

// ---------------------------------------------------------------------------------------------
// The app under test
// ---------------------------------------------------------------------------------------------

export interface ReliabilityAppOptions {
  provider: SecretProvider;
  tokens: TokenVerifier;
  logger: RecordingLogger;
  /** Folder of the session records. */
  sessionPath: string;
  sessionCache?: { ttlMs: number; max: number };
}

/**
 * express 5 + express-session (SecretsSessionStore) + bearerAuth, the way a team would wire it:
 *  POST /login?user=   session login, saved before answering
 *  GET  /me            the session's user (401 without one)
 *  GET  /api/data      bearer-protected
 *  POST /count         bearer-protected, increments the session's counter and tags the session
 *                      with the token's name on first use
 * Failures go to an error handler that logs `<ErrorName>: <message>` (what a team's logger sees)
 * and answers 503 for an unavailable backend, 500 otherwise.
 */
export function reliabilityApp(opts: ReliabilityAppOptions): { app: Express; store: SecretsSessionStore } {
  const { logger } = opts;
  const store = new SecretsSessionStore({ provider: opts.provider, path: opts.sessionPath, cleanupIntervalMs: false, cache: opts.sessionCache });
  const app = express();
  app.use(session({ store, secret: SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  const auth = bearerAuth({ tokens: opts.tokens, rateLimit: false, logger });
  app.post('/login', (req, res, next) => {
    req.session.user = String(req.query.user ?? 'anon');
    req.session.save((err) => (err ? next(err) : res.json({ sid: req.sessionID })));
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) {
      res.status(401).json({ user: null });
      return;
    }
    res.json({ user: req.session.user });
  });
  app.get('/api/data', auth, (req, res) => {
    res.json({ ok: true, who: req.auth?.name });
  });
  app.post('/count', auth, (req, res, next) => {
    const s = req.session;
    s.client ??= req.auth?.name;
    s.n = (s.n ?? 0) + 1;
    s.save((err) => (err ? next(err) : res.json({ n: s.n, client: s.client, who: req.auth?.name })));
  });
  app.use(appErrorHandler(logger));
  return { app, store };
}

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on a free loopback port. */
export async function listen(app: Express): Promise<Listening> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The `connect.sid=...` pair of a response, or null. */
export function cookieOf(res: Response): string | null {
  const found = res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
  return found ? found.split(';')[0] : null;
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

export interface Sample {
  route: string;
  start: number;
  end: number;
  /** HTTP status, or 0 when the request itself failed (connection error, client timeout). */
  status: number;
}

export interface RequestSpec {
  route: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
}

/**
 * `workers` loops, each sending its next request as soon as the previous one answered, until
 * stop() — a bounded, steady load (at most `workers` requests in flight; `maxRequests` total).
 */
export function steadyLoad(baseUrl: string, workers: number, next: (worker: number, i: number) => RequestSpec, maxRequests = 100_000) {
  const samples: Sample[] = [];
  let stopped = false;
  let sent = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; !stopped && sent < maxRequests; i++) {
      sent++;
      const spec = next(w, i);
      const start = Date.now();
      let status = 0;
      try {
        const res = await fetch(baseUrl + spec.path, { method: spec.method, headers: spec.headers, signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      samples.push({ route: spec.route, start, end: Date.now(), status });
      // Fast failures must not turn the loop into a busy spin.
      if (status !== 200) await sleep(5);
    }
  });
  return {
    samples,
    async stop(): Promise<Sample[]> {
      stopped = true;
      await Promise.all(loops);
      return samples;
    },
  };
}

/** How many samples of each status, e.g. { 200: 812, 503: 40 }. */
export function statusCounts(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP (bytes that fetch / node:http refuse to send)
// ---------------------------------------------------------------------------------------------

/**
 * Sends `GET path` with extra raw header lines over a plain socket (UTF-8 bytes, anything goes)
 * and resolves with the status code; 0 when the server closed the connection without one.
 */
export function rawGet(port: number, path: string, headerLines: string[], timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to raw GET ${path}`));
    }, timeoutMs);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (/^HTTP\/1\.[01] \d{3}/.test(data)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    const head = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headerLines, 'Connection: close', '', ''].join('\r\n');
    socket.write(Buffer.from(head, 'utf8'));
  });
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/** The q-quantile (0..1) of numbers (nearest rank). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Prints a scenario's figures as one JSON line (copied into docs/reliability.md). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`RELIABILITY ${scenario} ${JSON.stringify(figures)}`);
}

/**
 * The specs' app error handler: logs the failure for the report, answers 503 when the backend is
 * unavailable (a clear, retryable refusal) and 500 otherwise; nothing once the answer was sent
 * (express-session reports a failed end-of-request touch after the answer is written).
 */
export function appErrorHandler(logger: { error(line: string): void }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = err as Error;
    logger.error(`app: ${req.method} ${req.path} failed: ${e?.name}: ${e?.message}`);
    if (res.headersSent) return;
    const unavailable = err instanceof SecretsAuthError && err.code === 'BACKEND_UNAVAILABLE';
    res.status(unavailable ? 503 : 500).json({ error: e?.name ?? 'Error' });
  };
}
