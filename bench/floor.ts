// What the backends cost by themselves: one raw read of a ~500-byte session, no store code, at the
// same concurrencies. The gap between a store's get and its floor is the store's own overhead.
import { readFile } from 'node:fs';
import { mkdir, readFile as readFileP, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { sidDigest } from '../lib/session/key';
import { toData } from '../lib/session/record';
import type { BenchEnv } from './lib/servers';
import { runRounds, type Sample, shuffle, summarize } from './lib/stats';
import { makeSession, newSid } from './lib/stores';
import { forEachConcurrently, type OpsConfig, type OpsRow } from './store-ops';

const readFileCb = promisify(readFile);

interface Floor {
  id: string;
  label: string;
  read: (sid: string) => Promise<unknown>;
}

/** GET over node:http with a keep-alive agent: the least any Node HTTP client can do. `missing`: a 404 is the expected answer. */
function rawGet(agent: http.Agent, url: string, token: string, missing = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers: { 'X-Vault-Token': token } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => (res.statusCode === (missing ? 404 : 200) ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function baoPut(address: string, token: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${address}/v1/${path}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`OpenBao POST ${path}: HTTP ${res.status}`);
}

/** The floor reads, written and warmed up: `runOnce` times every row once, `rows` gives the medians so far. */
export interface FloorBench {
  runOnce(): Promise<void>;
  rows(): OpsRow[];
  close(): Promise<void>;
}

/**
 * Writes the floor's records and warms each read up. The runs are the caller's: between the store
 * runs (run.ts), so a floor row and the store rows it is compared with see the same machine.
 */
export async function prepareFloor(env: BenchEnv, cfg: OpsConfig): Promise<FloorBench> {
  const sids = Array.from({ length: cfg.pool }, () => newSid());
  const text = (i: number) => JSON.stringify({ session: JSON.stringify(makeSession(i)), expires_at: Date.now() + 86_400_000 });
  const floors: Floor[] = [];
  const closers: (() => unknown)[] = [];
  try {
    const redis = createClient({ url: env.redisUrl });
    await redis.connect();
    closers.push(() => redis.close());
    const rkey = (sid: string) => `${env.redisPrefix}floor:${sid}`;
    for (const [i, sid] of sids.entries()) await redis.set(rkey(sid), text(i), { EX: 3600 });
    floors.push({ id: 'floor-redis', label: 'Redis GET (node-redis)', read: (sid) => redis.get(rkey(sid)) });

    const dir = join(env.tmpRoot, 'floor');
    await mkdir(dir, { recursive: true });
    for (const [i, sid] of sids.entries()) await writeFile(join(dir, `${sid}.json`), text(i));
    floors.push({ id: 'floor-fs-cb', label: 'fs.readFile (callback)', read: (sid) => readFileCb(join(dir, `${sid}.json`), 'utf8') });
    floors.push({ id: 'floor-fs-promise', label: 'fs.promises.readFile', read: (sid) => readFileP(join(dir, `${sid}.json`), 'utf8') });

    if (env.bao) {
      const { address, token, kv1Mount, kv2Mount } = env.bao;
      const agent = new http.Agent({ keepAlive: true });
      closers.push(() => agent.destroy());
      for (const [i, sid] of sids.entries()) {
        const data = JSON.parse(text(i));
        await baoPut(address, token, `${kv1Mount}/floor/${sid}`, data);
        await baoPut(address, token, `${kv2Mount}/data/floor/${sid}`, { data });
      }
      floors.push({ id: 'floor-kv1', label: 'OpenBao KV v1 GET (node:http)', read: (sid) => rawGet(agent, `${address}/v1/${kv1Mount}/floor/${sid}`, token) });
      // What a KV v1 session get must read (KV v1 has no check-and-set, see lib/session/ended.ts):
      // the record, then whether an ended mark exists (usually not: a 404).
      floors.push({
        id: 'floor-kv1-marked',
        label: 'OpenBao KV v1 GET + GET of a missing key, in sequence (node:http)',
        read: async (sid) => {
          await rawGet(agent, `${address}/v1/${kv1Mount}/floor/${sid}`, token);
          return rawGet(agent, `${address}/v1/${kv1Mount}/floor-ended/${sid}`, token, true);
        },
      });
      floors.push({
        id: 'floor-kv2',
        label: 'OpenBao KV v2 GET (node:http)',
        read: (sid) => rawGet(agent, `${address}/v1/${kv2Mount}/data/floor/${sid}`, token),
      });
      // The same read of a record as a store keeps it: its key (`sess:` and a 43-character hash,
      // URL-encoded as the provider sends it) and its fields (the id, creation and last-seen times).
      const recordPath = (sid: string) => `${kv2Mount}/data/floor-record/${encodeURIComponent(`sess:${sidDigest(sid)}`)}`;
      for (const [i, sid] of sids.entries())
        await baoPut(address, token, recordPath(sid), { data: toData(JSON.stringify(makeSession(i)), Date.now() + 86_400_000, sid) });
      floors.push({
        id: 'floor-kv2-record',
        label: "OpenBao KV v2 GET of a store's record (node:http)",
        read: (sid) => rawGet(agent, `${address}/v1/${recordPath(sid)}`, token),
      });
    }

    for (const f of floors) await runRounds({ concurrency: 32, budgetMs: 0, maxOps: 0, prepare: async () => sids, op: f.read });
  } catch (err) {
    for (const close of closers.reverse()) await close();
    throw err;
  }
  const samples = new Map<string, Sample[]>();
  return {
    async runOnce() {
      for (const f of floors) {
        for (const c of cfg.concurrencies) {
          const key = `${f.id}|${c}`;
          // Each round reads its records once untimed first, as a store's get rounds do (store-ops.ts),
          // so the timed reads of both follow the same burst of 32 callers.
          const prepare = async () => {
            const items = shuffle([...sids]);
            await forEachConcurrently(items, 32, f.read);
            return items;
          };
          const sample = await runRounds({ concurrency: c, budgetMs: cfg.budgetMs, maxOps: cfg.maxOps, prepare, op: f.read });
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
      }
    },
    rows: () =>
      floors.flatMap((f) =>
        cfg.concurrencies.map((c) => ({ store: f.id, label: f.label, op: 'get' as const, concurrency: c, summary: summarize(samples.get(`${f.id}|${c}`)!) })),
      ),
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
