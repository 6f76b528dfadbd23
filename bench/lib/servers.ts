// The backends the benchmark needs: an OpenBao dev server (started here, always stopped), the
// shared local Redis (keys under a random prefix, deleted at the end) and temporary folders.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { binaryPath, REDIS_URL } from '../../spec/support/components';
import { baoRequest, type DevServer, enableKvV1, startDevServer } from '../../spec/support/openbao';

export { baoRequest, enableKvV1 };

/** Where the benchmarked stores keep their data; passed to the HTTP server process as JSON. */
export interface BenchEnv {
  redisUrl: string;
  /** `esa-bench:<random>:` — every Redis key the bench writes starts with it. */
  redisPrefix: string;
  /** Temporary folder for file-based stores (removed at the end). */
  tmpRoot: string;
  bao?: { address: string; token: string; kv1Mount: string; kv2Mount: string };
}

type Cleanup = () => Promise<void> | void;
const cleanups: Cleanup[] = [];

/** Runs `fn` at cleanup time (last registered runs first). */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

/** Runs every cleanup once, logging (not throwing) failures. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Starts OpenBao in dev mode (in-memory storage), mounts KV v1, sets the KV v2 mount to keep one
 * version per key as docs/vault.md asks of a sessions mount (the floor's keys have one version
 * too), and registers its stop.
 */
export async function startOpenBao(): Promise<{ server: DevServer; bao: NonNullable<BenchEnv['bao']> }> {
  const server = await startDevServer();
  onCleanup(() => server.stop());
  const kv1Mount = 'bench-kv1';
  await enableKvV1(server.address, server.rootToken, kv1Mount);
  const config = await baoRequest(server.address, server.rootToken, 'POST', 'secret/config', { max_versions: 1 });
  if (config.status !== 204 && config.status !== 200) throw new Error(`OpenBao: setting secret/config max_versions=1 answered ${config.status}`);
  return { server, bao: { address: server.address, token: server.rootToken, kv1Mount, kv2Mount: 'secret' } };
}

/** Creates the environment: temporary folder, Redis prefix; registers their removal. */
export async function createEnv(withOpenBao: boolean): Promise<BenchEnv> {
  const tmpRoot = mkdtempSync(join(tmpdir(), 'esa-bench-'));
  onCleanup(() => rmSync(tmpRoot, { recursive: true, force: true }));
  const redisPrefix = `esa-bench:${randomBytes(6).toString('hex')}:`;
  const env: BenchEnv = { redisUrl: process.env.BENCH_REDIS_URL ?? REDIS_URL, redisPrefix, tmpRoot };
  onCleanup(async () => {
    await deleteRedisKeys(env.redisUrl, redisPrefix);
  });
  if (withOpenBao) env.bao = (await startOpenBao()).bao;
  return env;
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  let deleted = 0;
  try {
    let batch: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      batch.push(...keys);
      if (batch.length >= 1000) {
        deleted += await client.unlink(batch);
        batch = [];
      }
    }
    if (batch.length) deleted += await client.unlink(batch);
  } finally {
    await client.close();
  }
  return deleted;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  redis: string;
  openbao: string;
  date: string;
  /** 1-minute load average when the run started (other work on the machine skews every figure). */
  loadAtStart: number;
}

export async function machineInfo(redisUrl: string): Promise<MachineInfo> {
  let redis = 'unavailable';
  try {
    const client = createClient({ url: redisUrl });
    await client.connect();
    const info = await client.info('server');
    await client.close();
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    // reported as unavailable
  }
  let openbao = 'unavailable';
  const bao = binaryPath('bao');
  if (bao) openbao = execFileSync(bao, ['version'], { encoding: 'utf8' }).trim().split(' (')[0];
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    redis,
    openbao,
    date: new Date().toISOString(),
    loadAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}
