// Prints where a `node --cpu-prof` profile spent its time: self time per function and per package
// / file. Usage: node -r ts-node/register/transpile-only bench/cpuprofile-top.ts <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** "node_modules/axios", "lib/providers/vault-http.ts", "node:internal/fs/promises", "(native)". */
function area(url: string): string {
  if (!url) return '(native/VM)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const repo = url.indexOf('/work/main/');
  if (repo >= 0) return url.slice(repo + '/work/main/'.length);
  return url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, total: number, rows: number): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n');
}

function main(): void {
  const file = process.argv[2];
  const rows = Number(process.argv[3] ?? 25);
  if (!file) throw new Error('usage: cpuprofile-top.ts <file.cpuprofile> [rows]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const a = area(url);
    const fn = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    total += us;
  }
  console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n\nself time by package / file:\n${top(byArea, total, rows)}`);
  console.log(`\nself time by function:\n${top(byFn, total, rows)}`);
}

main();
