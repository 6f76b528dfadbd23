// Jest globalSetup (runs once, in the parent process, before any spec): starts ONE OpenBao dev
// server for the whole run and probes Redis. Results reach specs through process.env, which test
// environments copy (--runInBand) and workers inherit. Missing components never fail here:
// describeWith() in the specs decides between skip and failure.
import { binaryPath } from './components';
import { baoRequest, type DevServer, startDevServer } from './openbao';

// One Redis probe for provisioning and specs alike (scripts/provision.js is plain CommonJS).
const { pingRedis } = require('../../scripts/provision') as { pingRedis: (timeoutMs?: number) => Promise<boolean> };

declare global {
  // Handed from global setup to global teardown (same process and context).
  var __ESA_SHARED_BAO__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [, redis] = await Promise.all([startSharedVault(), pingRedis()]);
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
    // One version per key for the whole mount, as docs/vault.md sets up (the provider writes no
    // per-key max_versions and warns, ESA_VAULT_MAX_VERSIONS, when the mount keeps more).
    const config = await baoRequest(server.address, server.rootToken, 'POST', 'secret/config', { max_versions: 1 });
    if (config.status !== 204 && config.status !== 200) throw new Error(`POST secret/config answered ${config.status}`);
    process.env.ESA_TEST_VAULT_ADDR = server.address;
    process.env.ESA_TEST_VAULT_TOKEN = server.rootToken;
  } catch (err) {
    const message = (err as Error).message;
    process.env.ESA_TEST_VAULT_ERROR = message;
    console.warn(`\n!!!!!!!! global setup: could not start the shared OpenBao dev server:\n${message}\n`);
  }
}
