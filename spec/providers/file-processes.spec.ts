// Check-and-set across real OS processes: 4 child processes on one basePath hammer the same paths
// with get + (pause) + check-and-set put, and deletes. Afterwards: every acknowledged write is
// present (final version = 1 + acknowledged updates), no version is acknowledged twice, and no
// deleted path is back (churn paths are created once, by the spec: after a delete, a successful
// write could only be a stale check-and-set).
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileProvider } from '../../lib';
import { compiledLibrary, workerProcessOptions } from '../support/compiled-library';
import { report } from '../reliability/harness';
import { removeTempDir, tempDir } from '../support/temp-dir';

const WORKERS = 4;
const OPS_PER_WORKER = 600;
const MAX_MS_PER_WORKER = 20_000;
const CHURN_PATHS = 32;

interface Write {
  path: string;
  version: number;
  start: number;
  end: number;
}
interface Delete {
  path: string;
  start: number;
  end: number;
}
interface WorkerReport {
  increments: { path: string; version: number }[];
  writes: Write[];
  deletes: Delete[];
  conflicts: number;
  staleRefused: number;
}

function runWorker(libDir: string, base: string, worker: number): Promise<WorkerReport> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'file-processes.worker.js'), libDir, base, String(worker), String(OPS_PER_WORKER), String(MAX_MS_PER_WORKER), String(CHURN_PATHS)],
    {
      ...workerProcessOptions(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), MAX_MS_PER_WORKER + 20_000);
  return new Promise((resolve, reject) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as WorkerReport);
      else reject(new Error(`worker ${worker} ended with ${signal ?? code}: ${err.slice(-2000)}`));
    });
  });
}

describe('file provider: check-and-set across 4 OS processes on one folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('esa-procs-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  test('every acknowledged write present, no version acknowledged twice, no deleted path brought back', async () => {
    const base = join(dir, 'secrets');
    const library = await compiledLibrary(join(dir, 'build'));
    const seeder = createFileProvider({ basePath: base });
    for (let i = 0; i < CHURN_PATHS; i++) await seeder.put(`churn/k${i}`, { by: 'spec', n: 1 }, { cas: 0 });
    const started = Date.now();
    const reports = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(library.libDir, base, w)));
    const seconds = (Date.now() - started) / 1000;
    const provider = createFileProvider({ basePath: base });

    // Counters (never deleted): the final version is the number of acknowledged increments, and
    // each acknowledged version appears once.
    const increments = reports.flatMap((r) => r.increments);
    let lostWrites = 0; // counters, then churn paths still alive
    let duplicateVersions = 0;
    for (const path of new Set(increments.map((i) => i.path))) {
      const versions = increments.filter((i) => i.path === path).map((i) => i.version);
      duplicateVersions += versions.length - new Set(versions).size;
      const final = await provider.get(path);
      lostWrites += versions.length - (final?.version ?? 0);
      expect(final?.data.n).toBe(final?.version);
    }

    // Churn paths (created once by the spec, updated with cas, deleted).
    const writes = reports.flatMap((r) => r.writes);
    const deletes = reports.flatMap((r) => r.deletes);
    let brokenChains = 0;
    let resurrected = 0;
    for (let i = 0; i < CHURN_PATHS; i++) {
      const path = `churn/k${i}`;
      const versions = writes.filter((w) => w.path === path).map((w) => w.version);
      duplicateVersions += versions.length - new Set(versions).size;
      const final = await provider.get(path);
      const deleted = deletes.filter((d) => d.path === path);
      if (deleted.length > 0) {
        // Deleted: gone for good, and no write acknowledged after the first delete ended.
        const firstEnd = Math.min(...deleted.map((d) => d.end));
        if (final !== null) resurrected++;
        resurrected += writes.filter((w) => w.path === path && w.start > firstEnd).length;
      } else {
        // Alive: the seed plus every acknowledged update, each one version on from the last.
        lostWrites += versions.length + 1 - (final?.version ?? 0);
        if (final?.data.n !== final?.version) brokenChains++;
      }
    }
    const leftovers = (await readdir(join(base, 'churn'))).filter((f) => !f.endsWith('.json'));

    report('file-processes', {
      processes: WORKERS,
      childLoadedLibraryVia: library.via,
      ackedIncrements: increments.length,
      ackedChurnWrites: writes.length,
      ackedDeletes: deletes.length,
      conflicts: reports.reduce((n, r) => n + r.conflicts, 0),
      staleUpdatesRefusedAfterDelete: reports.reduce((n, r) => n + r.staleRefused, 0),
      deletedPaths: new Set(deletes.map((d) => d.path)).size,
      lostWrites,
      duplicateVersions,
      brokenChains,
      deletedPathsBroughtBack: resurrected,
      leftovers: leftovers.length,
      seconds,
    });
    expect(increments.length + writes.length).toBeGreaterThan(300);
    expect(deletes.length).toBeGreaterThan(5);
    expect(lostWrites).toBe(0);
    expect(duplicateVersions).toBe(0);
    expect(brokenChains).toBe(0);
    expect(resurrected).toBe(0);
    expect(leftovers).toEqual([]);
    await provider.close();
    await seeder.close();
  }, 90_000);
});
