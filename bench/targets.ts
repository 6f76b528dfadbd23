// The performance issue's targets (issue 16), checked against one run: store rows against the raw
// backend floor, against session-file-store and MemoryStore, and the HTTP app against connect-redis.
import type { Results } from './report';
import { costRatio, findRow, type OpsRow } from './store-ops';

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

/** The uncached Vault rows and their floors. */
const KV = [
  { store: 'esa-kv1', floor: 'floor-kv1', label: 'KV v1' },
  { store: 'esa-kv2', floor: 'floor-kv2', label: 'KV v2' },
];
/** Every cached row: "cached get (any provider)" is met only when each of them is. */
const CACHED = ['esa-file-cache', 'esa-kv2-cache'];

const get = (rows: OpsRow[] | undefined, store: string, c: number) => findRow(rows, store, 'get', c)?.summary;

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const times = (x: number) => `${x.toFixed(2)}×`;
const us = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)} µs`;
const perSec = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;

/** `ours` throughput at c=32 as a share of `ref`'s, met at `min` or above. */
function throughputShare(ours: OpsRow['summary'] | undefined, ref: OpsRow['summary'] | undefined, min: number, asShare = true) {
  if (!ours || !ref) return undefined;
  const r = ours.opsPerSec / ref.opsPerSec;
  return { measured: `${asShare ? pct(r) : times(r)} (${perSec(ours.opsPerSec)} vs ${perSec(ref.opsPerSec)})`, met: r >= min };
}

export function checkTargets(res: Results): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, measure: () => { measured: string; met: boolean } | undefined) => {
    const m = measure();
    checks.push(m ? { target, ...m } : { target, measured: 'not measured in this run', met: null });
  };
  for (const kv of KV) {
    add(`uncached OpenBao ${kv.label} get at c=32 ≥ 95% of the raw node:http GET floor's throughput`, () =>
      throughputShare(get(res.ops, kv.store, 32), get(res.floor, kv.floor, 32), 0.95),
    );
  }
  add('(variant) uncached OpenBao KV v1 get at c=32 ≥ 95% of the two-read floor (the record, then its ended mark: ended.ts)', () =>
    throughputShare(get(res.ops, 'esa-kv1', 32), get(res.floor, 'floor-kv1-marked', 32), 0.95),
  );
  add("(variant) uncached OpenBao KV v2 get at c=32 ≥ 95% of a raw GET of a store's record (its key and fields)", () =>
    throughputShare(get(res.ops, 'esa-kv2', 32), get(res.floor, 'floor-kv2-record', 32), 0.95),
  );
  const above = (store: string, floorId: string) => {
    const ours = get(res.ops, store, 1);
    const floor = get(res.floor, floorId, 1);
    if (!ours || !floor) return undefined;
    const by = ours.p50Us - floor.p50Us;
    return { measured: `${us(by)} (${ours.p50Us.toFixed(0)} vs ${floor.p50Us.toFixed(0)} µs)`, met: by <= 25 };
  };
  for (const kv of KV) add(`uncached OpenBao ${kv.label} get p50 at c=1 ≤ +25 µs above the floor`, () => above(kv.store, kv.floor));
  add("(variant) uncached OpenBao KV v2 get p50 at c=1 ≤ +25 µs above a raw GET of a store's record", () => above('esa-kv2', 'floor-kv2-record'));
  add('file get at c=32 ≥ 1.2× session-file-store throughput', () => throughputShare(get(res.ops, 'esa-file', 32), get(res.ops, 'sfs', 32), 1.2, false));
  add('file get at c=32 ≥ 85% of the callback fs.readFile floor', () => throughputShare(get(res.ops, 'esa-file', 32), get(res.floor, 'floor-fs-cb', 32), 0.85));
  for (const [c, limit, what] of [
    [1, 1.3, 'p50 at c=1'],
    [32, 1.5, 'time per get at c=32'],
  ] as const) {
    add(`cached get (every cached row) ${what} ≤ ${limit}× MemoryStore's`, () => {
      const ratios = CACHED.map((id) => ({ id, r: costRatio(findRow(res.ops, id, 'get', c), findRow(res.ops, 'memstore', 'get', c)) }));
      if (ratios.some(({ r }) => Number.isNaN(r))) return undefined;
      return { measured: ratios.map(({ id, r }) => `${id.replace('esa-', '')} ${times(r)}`).join(', '), met: ratios.every(({ r }) => r <= limit) };
    });
  }
  add('HTTP app on OpenBao KV v2 with cache + touchAfter ≥ 0.85× connect-redis req/s', () => {
    const ours = res.http?.find((r) => r.store === 'esa-kv2-lazy');
    const redis = res.http?.find((r) => r.store === 'redis');
    if (!ours || !redis) return undefined;
    const r = ours.reqPerSec / redis.reqPerSec;
    const capacity = redis.serverCpuUs / ours.serverCpuUs;
    return { measured: `${times(r)} (${perSec(ours.reqPerSec)} vs ${perSec(redis.reqPerSec)}); server CPU: ${times(capacity)} capacity`, met: r >= 0.85 };
  });
  return checks;
}

export function targetsTable(checks: TargetCheck[]): string {
  const rows = checks.map((c) => `| ${c.target} | ${c.measured} | ${c.met === null ? 'n/a' : c.met ? 'yes' : '**no**'} |`);
  return ['| target (issue 16) | measured | met |', '| --- | ---: | ---: |', ...rows].join('\n');
}
