// Three real OS processes run the expiry check at the same moment on one backend (a file-provider
// folder, OpenBao KV v2, OpenBao KV v1): exactly one `token.expiring` per due token over all of them.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { createFileProvider, createVaultProvider, type SecretProvider, TokenStore } from '../../lib';
import { compiledLibrary, workerProcessOptions } from '../support/compiled-library';
import { describeWith } from '../support/components';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { kvMountFor, sharedVault, uniquePrefix } from '../support/vault';

const DUE = 30;
const NOT_DUE = 10;
const ROUNDS = 3;

type Backend = Record<string, unknown> & { tokensPath: string };
type Answer = { ok?: boolean; ready?: boolean; ids?: string[]; error?: string };

function start(libDir: string): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'expiry-worker.js'), [libDir], {
    ...workerProcessOptions(),
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

function call(child: ChildProcess, msg: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    child.once('message', (a: Answer) => (a.ok ? resolve(a) : reject(new Error(`worker ${child.pid}: ${a.error}`))));
    child.send(msg);
  });
}

async function run(label: string, backend: Backend, provider: SecretProvider, libDir: string): Promise<void> {
  const store = new TokenStore({ provider, path: backend.tokensPath, bcryptCost: 4, createMaxQueue: 1000, expiryCheckIntervalMs: 0 });
  const due: string[] = [];
  for (let i = 0; i < DUE; i++) due.push((await store.create({ name: `due-${i}`, expiresIn: '2d' })).record.id);
  for (let i = 0; i < NOT_DUE; i++) await store.create({ name: `later-${i}`, expiresIn: '60d' });
  const procs = await Promise.all([start(libDir), start(libDir), start(libDir)]);
  try {
    await Promise.all(procs.map((p) => call(p, { op: 'init', backend })));
    const started = Date.now();
    const seen: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const at = Date.now() + 200;
      const answers = await Promise.all(procs.map((p) => call(p, { op: 'check', at })));
      seen.push(...answers.flatMap((a) => a.ids ?? []));
    }
    const perProcess = seen.length;
    expect(seen.sort()).toEqual([...due].sort()); // each due token once over 3 processes and 3 rounds
    console.log(
      `${label}: 3 processes x ${ROUNDS} simultaneous checks, ${DUE} due + ${NOT_DUE} not due -> ${perProcess} token.expiring events (${Date.now() - started} ms)`,
    );
  } finally {
    await Promise.all(procs.map((p) => call(p, { op: 'close' }).catch(() => p.kill('SIGKILL'))));
    await store.close();
  }
}

describe('token.expiring once per token across OS processes', () => {
  let scratch: string;
  let libDir: string;
  beforeAll(async () => {
    scratch = await tempDir('esa-expiry-proc-');
    libDir = (await compiledLibrary(scratch)).libDir;
  });
  afterAll(() => removeTempDir(scratch));

  test('file provider (one folder)', async () => {
    const basePath = join(scratch, 'data');
    const provider = createFileProvider({ basePath });
    await run('file', { kind: 'file', basePath, tokensPath: 'tokens' }, provider, libDir);
    await provider.close();
  }, 60_000);

  describeWith('openbao', 'OpenBao', () => {
    for (const kvVersion of [2, 1] as const) {
      test(`KV v${kvVersion}`, async () => {
        const { address, token } = sharedVault();
        const mount = await kvMountFor(kvVersion, 'kv1-expiry');
        const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion });
        await run(
          `OpenBao KV v${kvVersion}`,
          { kind: 'vault', address, token, mount, kvVersion, tokensPath: `${uniquePrefix('expiry')}/tokens` },
          provider,
          libDir,
        );
        await provider.close();
      }, 60_000);
    }
  });
});
