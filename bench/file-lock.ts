// `npm run bench:file-lock`: what the file provider's cross-process check-and-set (a lock file per
// write, the version read from disk under it) costs per write. Measures provider `put` and the
// session store's `set` and `touch` at 1 and 32 callers on
//   - "before": the file provider as it was before the lock file (in-process lock only), taken
//     from git history and transpiled here, on the same machine in the same run;
//   - "now": the current provider (default options, fsync on);
// and prints the file rows of the last full `npm run bench` (bench/results/latest.json) beside.
//   BENCH_RUNS=3 BENCH_OPS_MS=300 BENCH_OPS_MAX=5000 BENCH_POOL=256 npm run bench:file-lock
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SessionData } from 'express-session';
import ts from 'typescript';
import { createFileProvider, type SecretProvider, SecretsSessionStore } from '../lib';
import { envInt, fmt, ratio, runRounds, type Sample, type Summary, shuffle, summarize } from './lib/stats';
import { makeSession, newSid, ops } from './lib/stores';

const ROOT = resolve(__dirname, '..');
const OPS = ['put', 'set', 'touch'] as const;
type Op = (typeof OPS)[number];
const CONCURRENCIES = [1, 32];

type ProviderFactory = (basePath: string) => SecretProvider;

/**
 * The file provider from the commit before lib/providers/file-lock.ts was added, transpiled into
 * `scratch` with its imports pointed at today's lib/ (errors, paths, crypto are unchanged by the
 * lock). Null when git history is not there (a tarball) or it does not load.
 */
function providerBeforeLock(scratch: string): { make: ProviderFactory; commit: string } | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const added = git('log', '--format=%H', '--diff-filter=A', '--', 'lib/providers/file-lock.ts').split('\n').pop();
    if (!added) return null;
    const commit = git('rev-parse', `${added}^`);
    const source = git('show', `${commit}:lib/providers/file.ts`);
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    // Relative imports point at lib/, packages at this repository's node_modules.
    const js = outputText.replace(/require\("([^"]+)"\)/g, (_m, name: string) => {
      if (name.startsWith('../')) return `require(${JSON.stringify(join(ROOT, 'lib', name.slice(3)))})`;
      if (name.startsWith('./')) return `require(${JSON.stringify(join(ROOT, 'lib', 'providers', name.slice(2)))})`;
      return `require(${JSON.stringify(name.startsWith('node:') ? name : require.resolve(name, { paths: [ROOT] }))})`;
    });
    const file = join(scratch, 'file-before-lock.js');
    writeFileSync(file, js);
    const mod = require(file) as { createFileProvider: (o: { basePath: string }) => SecretProvider };
    return { make: (basePath) => mod.createFileProvider({ basePath }), commit: commit.slice(0, 7) };
  } catch (err) {
    console.log(`the provider before the lock could not be loaded: ${(err as Error).message}`);
    return null;
  }
}

interface Row {
  variant: string;
  op: Op;
  concurrency: number;
  summary: Summary;
}

interface Subject {
  provider: SecretProvider;
  store: SecretsSessionStore;
  items: [string, SessionData][];
}

async function prepare(make: ProviderFactory, dir: string): Promise<Subject> {
  const provider = make(dir);
  const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
  const items: [string, SessionData][] = Array.from({ length: envInt('BENCH_POOL', 256) }, (_, i) => [newSid(), makeSession(i)]);
  for (const [sid, sess] of items) await ops.set(store, sid, sess);
  return { provider, store, items };
}

function sample(subject: Subject, op: Op, concurrency: number) {
  const { provider, store, items } = subject;
  return runRounds<[string, SessionData]>({
    concurrency,
    budgetMs: envInt('BENCH_OPS_MS', 300),
    maxOps: envInt('BENCH_OPS_MAX', 5_000),
    prepare: async () => shuffle([...items]),
    op: ([sid, sess]) => {
      if (op === 'put') return provider.put(`plain/${sid}`, { value: sid });
      if (op === 'set') return ops.set(store, sid, sess);
      return ops.touch(store, sid, sess);
    },
  });
}

/**
 * Every variant on its own folder, measured in alternation run by run (the order flips each run),
 * so that load from other processes on the machine falls on all of them alike.
 */
async function measure(variants: [string, ProviderFactory][], dir: string, op: Op, concurrency: number): Promise<Row[]> {
  const subjects = await Promise.all(variants.map(([, make], i) => prepare(make, join(dir, `v${i}`))));
  const samples = subjects.map(() => [] as Sample[]);
  for (let run = 0; run < envInt('BENCH_RUNS', 3); run++) {
    const order = subjects.map((_, i) => i);
    if (run % 2 === 1) order.reverse();
    for (const i of order) samples[i].push(await sample(subjects[i], op, concurrency));
  }
  for (const { store, provider } of subjects) {
    await store.close();
    await provider.close();
  }
  return variants.map(([variant], i) => ({ variant, op, concurrency, summary: summarize(samples[i]) }));
}

/** File rows of the last full bench run, keyed "op c". */
function earlierFigures(): Map<string, Summary> {
  const file = join(__dirname, 'results', 'latest.json');
  const found = new Map<string, Summary>();
  if (!existsSync(file)) return found;
  const results = JSON.parse(readFileSync(file, 'utf8')) as { ops?: { store: string; op: string; concurrency: number; summary: Summary }[] };
  for (const row of results.ops ?? []) if (row.store === 'esa-file') found.set(`${row.op} ${row.concurrency}`, row.summary);
  return found;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'esa-bench-lock-'));
  try {
    const before = providerBeforeLock(scratch);
    const variants: [string, ProviderFactory][] = [['now: cross-process lock', (basePath) => createFileProvider({ basePath })]];
    if (before) variants.unshift([`before: in-process lock only (${before.commit})`, before.make]);
    else console.log('the "before" rows are left out.');
    const rows: Row[] = [];
    let n = 0;
    for (const op of OPS) {
      for (const concurrency of CONCURRENCIES) {
        const dir = join(scratch, `s${n++}`);
        mkdirSync(dir);
        rows.push(...(await measure(variants, dir, op, concurrency)));
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const earlier = earlierFigures();
    console.log('# file provider: cost of the cross-process check-and-set\n');
    console.log(
      `node ${process.version}, ${envInt('BENCH_RUNS', 3)} runs of up to ${envInt('BENCH_OPS_MS', 300)} ms each, variants in alternation; fsync on; median of runs\n`,
    );
    console.log('| op | callers | variant | p50 µs | p99 µs | ops/s | p50 now / before | last full bench (esa-file) p50 µs, ops/s |');
    console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |');
    for (const op of OPS) {
      for (const concurrency of CONCURRENCIES) {
        const mine = rows.filter((r) => r.op === op && r.concurrency === concurrency);
        const base = mine.find((r) => r.variant.startsWith('before'));
        for (const r of mine) {
          const vs = base && r !== base ? ratio(r.summary.p50Us, base.summary.p50Us) : '';
          const old = op === 'put' ? undefined : earlier.get(`${op} ${concurrency}`);
          const oldText = old ? `${fmt(old.p50Us)}, ${fmt(old.opsPerSec)}` : '';
          console.log(
            `| ${op} | ${concurrency} | ${r.variant} | ${fmt(r.summary.p50Us)} | ${fmt(r.summary.p99Us)} | ${fmt(r.summary.opsPerSec)} | ${vs} | ${r === base ? oldText : ''} |`,
          );
        }
      }
    }
    console.log('\n`put`: provider put of a new value on an existing path; `set`/`touch`: SecretsSessionStore on the file provider.');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
