// `npm run bench`: session stores side by side (ops, scale, HTTP). Prints the machine and markdown
// tables, writes bench/results/latest.{json,md}. Starts its own OpenBao dev server and always
// stops it; Redis keys live under a random `esa-bench:` prefix and are deleted at the end.
//
//   npm run bench -- --only=ops,http --stores=redis,esa-kv2-cache
//   BENCH_RUNS=3 BENCH_OPS_MS=300 BENCH_SCALE_TIERS=1000,10000,100000 BENCH_HTTP_SECONDS=2 npm run bench
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchHttp, type HttpConfig } from './http';
import { prepareFloor } from './floor';
import { floorTable, httpTable, machineLines, opTable, type Results, ratioTable, renderMarkdown, scaleTable } from './report';
import { checkTargets, targetsTable } from './targets';
import { benchScale, type ScaleConfig } from './scale';
import { binaryPath } from '../spec/support/components';
import { cleanupAll, createEnv, machineInfo } from './lib/servers';
import { envInt } from './lib/stats';
import { type BenchStore, createStore, selectStores } from './lib/stores';
import { benchStoreOps, OPS, type OpsConfig } from './store-ops';

const SECTIONS = ['ops', 'floor', 'scale', 'http'] as const;

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

const log = (s: string) => console.log(s);

async function main(): Promise<Results> {
  const started = Date.now();
  const only = new Set((arg('only') ?? SECTIONS.join(',')).split(','));
  const withOpenBao = process.env.BENCH_OPENBAO !== '0' && binaryPath('bao') !== null;
  if (!withOpenBao) log('OpenBao not found (or BENCH_OPENBAO=0): its rows are left out. Run `node scripts/provision.js`.');

  const opsCfg: OpsConfig = {
    runs: envInt('BENCH_RUNS', 3),
    budgetMs: envInt('BENCH_OPS_MS', 300),
    maxOps: envInt('BENCH_OPS_MAX', 100_000),
    concurrencies: [1, 32],
    pool: envInt('BENCH_POOL', 256),
  };
  const scaleCfg: ScaleConfig = {
    tiers: (process.env.BENCH_SCALE_TIERS ?? '1000,10000')
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
    backends: withOpenBao ? ['file', 'kv2'] : ['file'],
    gets: envInt('BENCH_SCALE_GETS', 1000),
    expiredShare: 0.1,
    populateLimitS: envInt('BENCH_SCALE_POPULATE_LIMIT_S', 180),
  };
  const httpCfg: HttpConfig = {
    runs: envInt('BENCH_HTTP_RUNS', 5),
    durationS: envInt('BENCH_HTTP_SECONDS', 2),
    connections: envInt('BENCH_HTTP_CONNECTIONS', 16),
    profileDir: process.env.BENCH_HTTP_PROF,
  };

  const env = await createEnv(withOpenBao);
  const machine = await machineInfo(env.redisUrl);
  log('# express-secrets-auth benchmarks\n');
  log(machineLines(machine));
  const results: Results = {
    machine,
    config: {
      ...opsCfg,
      scaleTiers: scaleCfg.tiers,
      httpRuns: httpCfg.runs,
      httpSeconds: httpCfg.durationS,
      connections: httpCfg.connections,
      sections: [...only],
    },
  };
  const defs = selectStores(arg('stores'), withOpenBao);

  // The floor's runs end each store run (with ops), so each raw read is timed beside the store rows it is compared with.
  const floor = only.has('floor') ? await prepareFloor(env, opsCfg) : undefined;
  try {
    if (only.has('ops')) {
      log(`\n## Store operations (${defs.length} stores, ${opsCfg.runs} runs, ${opsCfg.budgetMs} ms per cell${floor ? ', then the floor' : ''})`);
      const stores: BenchStore[] = [];
      try {
        for (const def of defs) stores.push(await createStore(def, env));
        results.ops = await benchStoreOps(stores, opsCfg, log, floor?.runOnce);
      } finally {
        for (const s of stores) await s.close().catch(() => undefined);
      }
      log(`\n### Ratio to connect-redis (time per op; c=1: p50, c=32: 1/throughput)\n\n${ratioTable(results.ops, opsCfg.concurrencies)}`);
      for (const op of OPS) log(`\n### ${op}\n\n${opTable(results.ops, op, opsCfg.concurrencies)}`);
    } else if (floor) {
      for (let run = 1; run <= opsCfg.runs; run++) await floor.runOnce();
    }
    if (floor) {
      results.floor = floor.rows();
      log(`\n## Backend floor (raw reads, no store code; ${opsCfg.runs} runs)\n\n${floorTable(results.floor, results.ops, opsCfg.concurrencies)}`);
    }
  } finally {
    await floor?.close();
  }
  if (only.has('scale')) {
    log(`\n## Scale (${scaleCfg.tiers.join(' / ')} sessions)`);
    results.scale = await benchScale(env, scaleCfg, log);
    log(`\n${scaleTable(results.scale)}`);
  }
  if (only.has('http')) {
    log(`\n## HTTP (${httpCfg.connections} connections, ${httpCfg.durationS} s x ${httpCfg.runs} runs per app)`);
    results.http = await benchHttp(env, defs, httpCfg, log);
    log(`\n${httpTable(results.http)}`);
  }
  log(`\n## Targets\n\n${targetsTable(checkTargets(results))}`);
  results.durationS = (Date.now() - started) / 1000;
  return results;
}

function write(results: Results): void {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const suffix = process.env.BENCH_OUT ?? 'latest';
  writeFileSync(join(dir, `${suffix}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${suffix}.md`), renderMarkdown(results));
  // In the project's format, so committing a run never fails `npm run lint` (which checks bench/).
  const files = [join(dir, `${suffix}.json`), join(dir, `${suffix}.md`)];
  try {
    execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', ...files], { stdio: 'ignore' });
  } catch {
    log('(biome not found: the results files are unformatted; run npm run format before committing them)');
  }
  log(`\nWrote bench/results/${suffix}.json and bench/results/${suffix}.md (${results.durationS?.toFixed(0)} s).`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

main()
  .then(async (results) => {
    await cleanupAll();
    write(results);
    process.exit(0);
  })
  .catch(async (err) => {
    console.error(err);
    await cleanupAll();
    process.exit(1);
  });
