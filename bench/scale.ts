// Section 2: how get, length() and a full expiry sweep grow with the number of stored sessions,
// for SecretsSessionStore on the file provider and on OpenBao KV v2.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createFileProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../lib';
import { baoRequest, type BenchEnv } from './lib/servers';
import { percentile } from './lib/stats';
import { makeSession, newSid, ops } from './lib/stores';

export interface ScaleConfig {
  tiers: number[];
  backends: ('file' | 'kv2')[];
  /** Get latency is measured over this many random reads (one caller). */
  gets: number;
  /** Share of the sessions written already about to expire, for the sweep to delete. */
  expiredShare: number;
  /** A tier whose populating would take longer than this (s) is stopped and reported as projected. */
  populateLimitS: number;
}

export interface ScaleRow {
  backend: 'file' | 'kv2';
  label: string;
  sessions: number;
  populateS: number;
  populatePerSec: number;
  getP50Us?: number;
  getP99Us?: number;
  lengthMs?: number;
  sweepMs?: number;
  swept?: { scanned: number; deleted: number };
  /** Set when the tier was stopped early; holds why. */
  skipped?: string;
}

const POPULATE_CONCURRENCY = 32;
const SHORT_MAX_AGE_MS = 2_000;
const LABELS = { file: 'ours: file', kv2: 'ours: OpenBao KV v2' } as const;

async function providerFor(backend: 'file' | 'kv2', env: BenchEnv, tier: number): Promise<{ provider: SecretProvider; drop: () => Promise<void> }> {
  if (backend === 'file') {
    const basePath = join(env.tmpRoot, `scale-${tier}`);
    return { provider: createFileProvider({ basePath }), drop: () => rm(basePath, { recursive: true, force: true }) };
  }
  if (!env.bao) throw new Error('OpenBao is not running');
  const { address, token } = env.bao;
  // A fresh mount per tier: its sessions are dropped in one call afterwards.
  const mount = `scale-${tier}-${Date.now()}`;
  const res = await baoRequest(address, token, 'POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
  if (res.status >= 300) throw new Error(`mounting ${mount}: HTTP ${res.status}`);
  const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion: 2 });
  return { provider, drop: async () => void (await baoRequest(address, token, 'DELETE', `sys/mounts/${mount}`)) };
}

/** Writes `n` sessions (the last `short` of them expiring within 2 s); stops at the deadline. */
async function populate(store: SecretsSessionStore, n: number, short: number, deadline: number): Promise<{ sids: string[]; written: number }> {
  const sids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      const sid = newSid();
      const isShort = i >= n - short;
      await ops.set(store, sid, makeSession(i, isShort ? SHORT_MAX_AGE_MS : undefined));
      if (!isShort) sids.push(sid);
    }
  };
  await Promise.all(Array.from({ length: POPULATE_CONCURRENCY }, worker));
  return { sids, written: Math.min(next, n) };
}

async function tierRow(backend: 'file' | 'kv2', tier: number, env: BenchEnv, cfg: ScaleConfig, log: (s: string) => void): Promise<ScaleRow> {
  const { provider, drop } = await providerFor(backend, env, tier);
  const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false, path: 'sessions' });
  const row: ScaleRow = { backend, label: LABELS[backend], sessions: tier, populateS: 0, populatePerSec: 0 };
  try {
    const short = Math.round(tier * cfg.expiredShare);
    const t0 = performance.now();
    const { sids, written } = await populate(store, tier, short, t0 + cfg.populateLimitS * 1000);
    const shortWrittenAt = Date.now();
    row.populateS = (performance.now() - t0) / 1000;
    row.populatePerSec = written / row.populateS;
    if (written < tier) {
      row.skipped = `populating stopped after ${cfg.populateLimitS} s at ${written.toLocaleString('en-US')} sessions (${Math.round(row.populatePerSec)}/s; the full tier would take ~${Math.round(tier / row.populatePerSec)} s)`;
      log(`  scale ${backend} ${tier}: ${row.skipped}`);
      return row;
    }
    const lat: number[] = [];
    for (let i = 0; i < cfg.gets; i++) {
      const sid = sids[Math.floor(Math.random() * sids.length)];
      const g0 = performance.now();
      const sess = await ops.get(store, sid);
      lat.push((performance.now() - g0) * 1000);
      if (!sess) throw new Error(`scale ${backend} ${tier}: a stored session was not found`);
    }
    lat.sort((a, b) => a - b);
    row.getP50Us = percentile(lat, 50);
    row.getP99Us = percentile(lat, 99);

    const wait = shortWrittenAt + SHORT_MAX_AGE_MS + 50 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s0 = performance.now();
    row.swept = await store.sweep();
    row.sweepMs = performance.now() - s0;

    const l0 = performance.now();
    const length = await ops.length(store);
    row.lengthMs = performance.now() - l0;
    if (length !== tier - short || row.swept.deleted !== short) {
      throw new Error(`scale ${backend} ${tier}: length ${length} / swept ${row.swept.deleted}, expected ${tier - short} / ${short}`);
    }
    log(
      `  scale ${backend} ${tier}: populate ${row.populateS.toFixed(1)} s, get p50 ${row.getP50Us.toFixed(0)} µs, ` +
        `sweep ${row.sweepMs.toFixed(0)} ms, length() ${row.lengthMs.toFixed(0)} ms`,
    );
    return row;
  } finally {
    await store.close();
    await provider.close();
    await drop();
  }
}

export async function benchScale(env: BenchEnv, cfg: ScaleConfig, log: (s: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const backend of cfg.backends) {
    for (const tier of cfg.tiers) rows.push(await tierRow(backend, tier, env, cfg, log));
  }
  return rows;
}
