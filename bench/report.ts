// Markdown tables of a benchmark run (the targets are checked in targets.ts).
import type { HttpRow } from './http';
import type { MachineInfo } from './lib/servers';
import { fmt, ratio } from './lib/stats';
import type { ScaleRow } from './scale';
import { costRatio, findRow, OPS, type Op, type OpsRow } from './store-ops';
import { checkTargets, targetsTable } from './targets';

export interface Results {
  machine: MachineInfo;
  config: Record<string, unknown>;
  ops?: OpsRow[];
  /** Raw backend reads (no store code). */
  floor?: OpsRow[];
  scale?: ScaleRow[];
  http?: HttpRow[];
  durationS?: number;
}

const REFERENCE = 'redis';

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function storeIds(rows: OpsRow[]): { id: string; label: string }[] {
  const seen = new Map<string, string>();
  for (const r of rows) seen.set(r.store, r.label);
  return [...seen].map(([id, label]) => ({ id, label }));
}

export function ratioTable(rows: OpsRow[], concurrencies: number[], ref = REFERENCE): string {
  const head = ['store', ...OPS.flatMap((op) => concurrencies.map((c) => `${op} c=${c}`))];
  const body = storeIds(rows).map(({ id, label }) => [
    label,
    ...OPS.flatMap((op) => concurrencies.map((c) => ratio(costRatio(findRow(rows, id, op, c), findRow(rows, ref, op, c)), 1))),
  ]);
  return table(head, body);
}

export function opTable(rows: OpsRow[], op: Op, concurrencies: number[]): string {
  const head = ['store', ...concurrencies.flatMap((c) => [`c=${c} p50 µs`, `c=${c} p99 µs`, `c=${c} ops/s`])];
  const body = storeIds(rows).map(({ id, label }) => [
    label,
    ...concurrencies.flatMap((c) => {
      const s = findRow(rows, id, op, c)?.summary;
      return s ? [fmt(s.p50Us), fmt(s.p99Us), fmt(s.opsPerSec)] : ['n/a', 'n/a', 'n/a'];
    }),
  ]);
  return table(head, body);
}

/** Raw reads, with their cost relative to connect-redis's get (which includes connect-redis's own work). */
export function floorTable(floor: OpsRow[], opsRows: OpsRow[] | undefined, concurrencies: number[]): string {
  const head = ['raw read', ...concurrencies.flatMap((c) => [`c=${c} p50 µs`, `c=${c} ops/s`, `c=${c} vs connect-redis get`])];
  const body = storeIds(floor).map(({ id, label }) => [
    label,
    ...concurrencies.flatMap((c) => {
      const row = findRow(floor, id, 'get', c);
      const ref = opsRows ? findRow(opsRows, REFERENCE, 'get', c) : undefined;
      return row ? [fmt(row.summary.p50Us), fmt(row.summary.opsPerSec), ratio(costRatio(row, ref), 1)] : ['n/a', 'n/a', 'n/a'];
    }),
  ]);
  return table(head, body);
}

export function scaleTable(rows: ScaleRow[]): string {
  const body = rows.map((r) =>
    r.skipped
      ? [r.label, r.sessions.toLocaleString('en-US'), `${fmt(r.populatePerSec)} (stopped)`, 'n/a', 'n/a', 'n/a', 'n/a', r.skipped]
      : [
          r.label,
          r.sessions.toLocaleString('en-US'),
          fmt(r.populatePerSec),
          fmt(r.getP50Us!),
          fmt(r.getP99Us!),
          fmt(r.lengthMs!),
          fmt(r.sweepMs!),
          `${r.swept!.scanned.toLocaleString('en-US')} scanned, ${r.swept!.deleted.toLocaleString('en-US')} deleted`,
        ],
  );
  return table(['store', 'sessions', 'populate sets/s', 'get p50 µs', 'get p99 µs', 'length() ms', 'sweep ms', 'sweep'], body);
}

export function httpTable(rows: HttpRow[], ref = REFERENCE): string {
  const refRow = rows.find((r) => r.store === ref);
  const body = rows.map((r) => [
    r.label,
    fmt(r.reqPerSec),
    refRow ? ratio(r.reqPerSec, refRow.reqPerSec) : 'n/a',
    fmt(r.serverCpuUs),
    refRow ? ratio(refRow.serverCpuUs, r.serverCpuUs) : 'n/a',
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    String(r.failures),
    r.requests.toLocaleString('en-US'),
  ]);
  return table(
    ['app', 'req/s', 'req/s vs connect-redis', 'server CPU µs/req', 'capacity vs connect-redis', 'p50 ms', 'p99 ms', 'failures', 'requests (all runs)'],
    body,
  );
}

export function machineLines(m: MachineInfo): string {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; ${m.os}`,
    `- Node ${m.node}; Redis ${m.redis}; ${m.openbao} (\`bao server -dev\`, in-memory storage)`,
    `- Run at ${m.date}; 1-minute load average at start ${m.loadAtStart ?? 'n/a'} (other work on the machine skews every figure)`,
  ].join('\n');
}

export function renderMarkdown(res: Results): string {
  const c = res.config as { runs: number; budgetMs: number; concurrencies: number[]; pool: number; httpRuns: number; httpSeconds: number; connections: number };
  const out: string[] = ['# Benchmark results', '', machineLines(res.machine), ''];
  if (res.ops?.length) {
    out.push(
      '## Session store operations',
      '',
      `Median of ${c.runs} runs; each run times up to ${c.budgetMs} ms per cell over ${c.pool} sessions of ~400 bytes.`,
      'Ratios are time per operation relative to connect-redis (lower is better): p50 latency at c=1,',
      'inverse throughput at c=32.',
      '',
      '### Ratio to connect-redis',
      '',
      ratioTable(res.ops, c.concurrencies),
      '',
    );
    for (const op of OPS) out.push(`### ${op}`, '', opTable(res.ops, op, c.concurrencies), '');
  }
  if (res.floor?.length) {
    out.push(
      '### Backend floor: one raw read, no store code',
      '',
      "The least a get on each backend can cost from Node on this machine; a store's get minus its floor is the store's own work.",
      '',
      floorTable(res.floor, res.ops, c.concurrencies),
      '',
    );
  }
  if (res.scale?.length) {
    out.push('## Scale', '', 'One caller for gets; the sweep deletes the sessions written to expire within 2 s.', '', scaleTable(res.scale), '');
  }
  if (res.http?.length) {
    out.push(
      '## HTTP (express-session, login then 10 reads per connection loop)',
      '',
      `autocannon, ${c.connections} connections, ${c.httpSeconds} s per run, median of ${c.httpRuns} runs; each app in its own server process. Capacity: connect-redis's server CPU per request divided by the row's (the req/s ratio a CPU-bound server would see).`,
      '',
      httpTable(res.http),
      '',
    );
  }
  out.push('## Targets', '', 'Checked against the rows above (sections left out of this run show "not measured").', '', targetsTable(checkTargets(res)), '');
  if (res.durationS) out.push(`_Total bench time ${res.durationS.toFixed(0)} s._`, '');
  return out.join('\n');
}
