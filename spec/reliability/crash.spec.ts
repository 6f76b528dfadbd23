// Crashes: a child process writes sessions and tokens through the file provider in a tight loop
// and is killed with SIGKILL at random points, 20 times, on the same folder. Afterwards every
// file parses, leftover temp files do not show up in `list`, and every write acknowledged before
// a kill is present (sessions with their data, tokens that still verify).
import { spawn } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { createFileProvider } from '../../lib/providers/file';
import { SecretsSessionStore } from '../../lib/session/store';
import { TokenStore } from '../../lib/tokens/store';
import { report, round, sleep } from './harness';

const ROOT = resolve(__dirname, '..', '..');
const KILLS = 20;

/** Newest modification time (ms) of the files under `dir`. */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The compiled library for the child: dist/ when it is newer than every file in lib/ (as in
 * `npm test`, which builds first), else lib/ transpiled into `scratch` now (a few hundred ms;
 * ts-node in each of the 20 children would cost ~1-2 s per start).
 */
async function compiledLibrary(scratch: string): Promise<{ libDir: string; via: string }> {
  const dist = join(ROOT, 'dist');
  const distTime = await fs.stat(join(dist, 'index.js')).then((s) => s.mtimeMs, () => 0);
  const lib = join(ROOT, 'lib');
  if (distTime > (await newestMtime(lib))) return { libDir: dist, via: 'dist' };
  const out = join(scratch, 'lib');
  for (const entry of await fs.readdir(lib, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(out, relative(lib, source)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(await fs.readFile(source, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.writeFile(target, outputText);
  }
  return { libDir: out, via: 'lib transpiled by the spec' };
}

interface Acks {
  sessions: Map<string, number>;
  counters: Map<number, number>;
  tokens: string[];
}

/** Runs the writer once and SIGKILLs it `killAfterMs` after it first acknowledged a write. */
async function runAndKill(libDir: string, base: string, run: number, killAfterMs: number, acks: Acks): Promise<{ lines: number; aliveMs: number }> {
  const child = spawn(process.execPath, [join(__dirname, 'crash-writer.js'), libDir, base, String(run)], {
    cwd: ROOT,
    // A transpiled copy outside the repository finds the dependencies here.
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let firstAck: () => void = () => {};
  const acked = new Promise<void>((r) => {
    firstAck = r;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (/\n[SCT] /.test(out)) firstAck();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<string>((r) => child.once('close', (code, signal) => r(signal ?? String(code))));
  const outcome = await Promise.race([acked.then(() => 'acked'), exited, sleep(20_000).then(() => 'timeout')]);
  if (outcome !== 'acked') {
    child.kill('SIGKILL');
    throw new Error(`crash-writer run ${run} did not acknowledge a write (${outcome}): ${err.slice(-2000)}`);
  }
  const startedAt = Date.now();
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  // Only complete lines were acknowledged.
  const lines = out.split('\n').slice(0, -1);
  for (const line of lines) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'S') acks.sessions.set(a, Number(b));
    else if (kind === 'C') acks.counters.set(Number(a), Math.max(acks.counters.get(Number(a)) ?? -1, Number(b)));
    else if (kind === 'T') acks.tokens.push(a);
  }
  return { lines: lines.length, aliveMs: Date.now() - startedAt };
}

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return files.sort();
}

describe('file provider: writer killed with SIGKILL at random points, 20 times', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esa-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('every file parses, temp files never reach list(), every acknowledged write is present', async () => {
    const base = join(dir, 'secrets');
    const library = await compiledLibrary(join(dir, 'build'));
    const acks: Acks = { sessions: new Map(), counters: new Map(), tokens: [] };
    const delays: number[] = [];
    let lines = 0;
    const started = Date.now();
    for (let run = 0; run < KILLS; run++) {
      const delay = Math.floor(Math.random() * 400);
      delays.push(delay);
      lines += (await runAndKill(library.libDir, base, run, delay, acks)).lines;
    }
    const writingMs = Date.now() - started;

    const files = await walk(base);
    const temps = files.filter((f) => f.endsWith('.esa-tmp'));
    // Nothing but secret files and the writer's temp files, and nothing outside the base folder.
    expect((await fs.readdir(dir)).filter((f) => f !== 'build')).toEqual(['secrets']);
    // A session file is named by the base64url SHA-256 of its id (43 characters), never by the id.
    for (const f of files) expect(f).toMatch(/^(sessions\/sess:[A-Za-z0-9_-]{43}|tokens\/[A-Za-z0-9]{12})\.json(\.[0-9a-f]{12}\.esa-tmp)?$/);

    const provider = createFileProvider({ basePath: base });
    const store = new SecretsSessionStore({ provider, cleanupInterval: false });
    const tokens = new TokenStore({ provider, bcryptCost: 4, logger: { warn: () => {} } });
    // Every listed key reads and parses; list() shows exactly the committed files.
    for (const folder of ['sessions', 'tokens']) {
      const listed = await provider.list(folder);
      const committed = files.filter((f) => f.startsWith(`${folder}/`) && f.endsWith('.json')).map((f) => f.slice(folder.length + 1, -5));
      expect(listed).toEqual(committed.sort());
      expect(listed.filter((k) => k.includes('.esa-tmp'))).toEqual([]);
      for (const key of listed) expect(await provider.get(`${folder}/${key}`)).not.toBeNull();
    }
    const sessionIds = await store.ids();
    expect(sessionIds.length).toBe((await provider.list('sessions')).length);
    const allTokens = await tokens.list();

    // Every acknowledged write is there, with its data.
    let missingSessions = 0;
    for (const [sid, n] of acks.sessions) {
      const s = (await store.get(sid)) as { n?: number; client?: string } | null;
      if (!(s && s.n === n && s.client === sid)) missingSessions++;
    }
    for (const [lane, seq] of acks.counters) {
      const s = (await store.get(`counter-l${lane}`)) as { n?: number } | null;
      expect(s?.n).toBeGreaterThanOrEqual(seq);
    }
    let refusedTokens = 0;
    for (const token of acks.tokens) if (!(await tokens.verify(token))) refusedTokens++;

    report('crash', {
      kills: KILLS,
      childLoadedLibraryVia: library.via,
      killDelaysAfterFirstAckMs: delays,
      ackedLines: lines,
      ackedSessions: acks.sessions.size,
      ackedTokens: acks.tokens.length,
      sessionFiles: sessionIds.length,
      tokenRecords: allTokens.length,
      leftoverTempFiles: temps.length,
      missingSessions,
      refusedTokens,
      seconds: round(writingMs / 1000),
    });
    expect(acks.sessions.size).toBeGreaterThan(100);
    expect(acks.tokens.length).toBeGreaterThan(50);
    expect(missingSessions).toBe(0);
    expect(refusedTokens).toBe(0);
    await tokens.close();
    await store.close();
  }, 120_000);
});
