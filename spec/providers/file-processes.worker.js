// Child process of file-processes.spec.ts: check-and-set puts and deletes through the file
// provider on paths every worker shares, bounded in count and time; prints one JSON report.
//   node file-processes.worker.js <compiled library folder> <basePath> <worker> <ops> <maxMs> <churn paths>
// Times are process.hrtime (CLOCK_MONOTONIC on Linux: one clock for every process on the host).
const [libDir, basePath, worker, opsArg, maxMsArg, churnArg] = process.argv.slice(2);
const { createFileProvider } = require(`${libDir}/providers/file`);
const { ConflictError } = require(`${libDir}/errors`);

const provider = createFileProvider({ basePath });
const COUNTERS = 3;
const CHURN_PATHS = Array.from({ length: Number(churnArg) }, (_, i) => `churn/k${i}`);
const DELETE_SHARE = 0.05;
const gone = new Set();
const now = () => Number(process.hrtime.bigint() / 1000n); // µs
const pause = () => new Promise((r) => setTimeout(r, Math.random() * 3));
const pick = (n) => Math.floor(Math.random() * n);

const report = { increments: [], writes: [], deletes: [], conflicts: 0, staleRefused: 0 };

/** get, a short pause (so other processes get in between), then put with cas on what was read. */
async function increment() {
  const path = `counters/c${pick(COUNTERS)}`;
  const seen = await provider.get(path);
  await pause();
  const version = seen?.version ?? 0;
  try {
    const written = await provider.put(path, { n: (seen?.data.n ?? 0) + 1 }, { cas: version });
    report.increments.push({ path, version: written.version });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    report.conflicts++;
  }
}

/**
 * On a churn path (created once by the spec, never created again): update with cas on what was
 * read, or delete. After a delete every update must fail: no creator exists, so a success would be
 * a stale check-and-set bringing the deleted path back.
 */
async function churn() {
  const alive = CHURN_PATHS.filter((p) => !gone.has(p));
  if (alive.length === 0) return;
  const path = alive[pick(alive.length)];
  const seen = await provider.get(path);
  if (!seen) {
    gone.add(path);
    return;
  }
  await pause();
  if (Math.random() < DELETE_SHARE) {
    const start = now();
    await provider.delete(path);
    report.deletes.push({ path, start, end: now() });
    return;
  }
  const start = now();
  try {
    const written = await provider.put(path, { by: worker, n: seen.data.n + 1 }, { cas: seen.version });
    report.writes.push({ path, version: written.version, start, end: now() });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    report.conflicts++;
    if ((await provider.get(path)) === null) report.staleRefused++;
  }
}

async function lane(ops, deadline) {
  for (let i = 0; i < ops && Date.now() < deadline; i++) {
    if (Math.random() < 0.4) await increment();
    else await churn();
  }
}

const deadline = Date.now() + Number(maxMsArg);
const perLane = Math.ceil(Number(opsArg) / 2);
Promise.all([lane(perLane, deadline), lane(perLane, deadline)])
  .then(() => provider.close())
  .then(() => process.stdout.write(`${JSON.stringify(report)}\n`))
  .catch((err) => {
    process.stderr.write(`file-processes worker failed: ${err?.stack}\n`);
    process.exit(1);
  });
