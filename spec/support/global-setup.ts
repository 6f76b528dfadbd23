// Jest globalSetup (runs once, in the parent process, before any spec): starts ONE OpenBao dev
// server for the whole run and probes Redis. Results reach specs through process.env, which test
// environments copy (--runInBand) and workers inherit. Missing components never fail here:
// describeWith() in the specs decides between skip and failure.
import { createConnection } from 'node:net';
import { binaryPath } from './components';
import { type DevServer, startDevServer } from './openbao';

declare global {
  // Handed from global setup to global teardown (same process and context).
  var __ESA_SHARED_BAO__: DevServer | undefined;
}

function pingRedis(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const [, redis] = await Promise.all([startSharedVault(), pingRedis('127.0.0.1', 6379)]);
  if (redis) process.env.ESA_TEST_REDIS = '1';
  else delete process.env.ESA_TEST_REDIS;
}

async function startSharedVault(): Promise<void> {
  // A developer may point the run at their own server.
  if (process.env.ESA_TEST_VAULT_ADDR && process.env.ESA_TEST_VAULT_TOKEN) return;
  if (!binaryPath('bao')) return;
  try {
    const server = await startDevServer();
    globalThis.__ESA_SHARED_BAO__ = server;
    process.env.ESA_TEST_VAULT_ADDR = server.address;
    process.env.ESA_TEST_VAULT_TOKEN = server.rootToken;
  } catch (err) {
    const message = (err as Error).message;
    process.env.ESA_TEST_VAULT_ERROR = message;
    console.warn(`\n!!!!!!!! global setup: could not start the shared OpenBao dev server:\n${message}\n`);
  }
}
