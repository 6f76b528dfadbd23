// The published entry points: `require` and `import` both work, expose the same API, and that API
// is exactly the checked-in list (spec/exports.list.txt), which README "Exports" documents.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

type Kind = 'value' | 'type';

/** spec/exports.list.txt as sorted "<name> <kind>" rows (comment lines skipped). */
function pinnedList(): string[] {
  const rows = readFileSync(join(__dirname, 'exports.list.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const row of rows) if (!/^[A-Za-z_$][\w$]* (value|type)$/.test(row)) throw new Error(`spec/exports.list.txt: "${row}" is not "<name> value|type"`);
  return rows;
}
const namesOf = (rows: string[], kind?: Kind) => rows.filter((r) => !kind || r.endsWith(` ${kind}`)).map((r) => r.split(' ')[0]);

/** Every name dist/index.d.ts exports, as "<name> <kind>" (kind from what the name resolves to). */
function declaredExports(): string[] {
  const file = join(root, 'dist', 'index.d.ts');
  const program = ts.createProgram([file], { noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error('dist/index.d.ts did not load as a module');
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return `${symbol.name} ${target.flags & ts.SymbolFlags.Value ? 'value' : 'type'}`;
    })
    .sort();
}

/** The names README's "## Exports" section lists, one `- \`name\` — ...` line each. */
function readmeExports(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Exports\n');
  if (start < 0) throw new Error('README.md has no "## Exports" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^- `([A-Za-z_$][\w$]*)` — /gm)].map((m) => m[1]);
}

describe('package entry points (built dist/)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js')) || !existsSync(join(root, 'dist', 'index.mjs'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does it before jest)');
    }
  });

  test('the pinned list is sorted and names each export once', () => {
    const rows = pinnedList();
    expect(rows).toEqual([...rows].sort());
    expect(new Set(namesOf(rows)).size).toBe(rows.length);
  });

  test("require('express-secrets-auth') exports exactly the pinned runtime names", () => {
    const out = run(['-e', "const m = require('express-secrets-auth'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== '__esModule').sort()))"]);
    expect(JSON.parse(out)).toEqual(namesOf(pinnedList(), 'value'));
  });

  test('dist/index.d.ts exports exactly the pinned names, values and types alike', () => {
    expect(declaredExports()).toEqual(pinnedList());
  });

  test('README "Exports" documents every pinned name, once, and nothing else', () => {
    const documented = readmeExports();
    expect([...documented].sort()).toEqual(namesOf(pinnedList()).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  test("import { ... } from 'express-secrets-auth' gives the same functions as require", () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "import * as esm from 'express-secrets-auth';",
      "import { createMemoryProvider } from 'express-secrets-auth';",
      'const cjs = createRequire(import.meta.url)("express-secrets-auth");',
      'const missing = Object.keys(cjs).filter((k) => k !== "__esModule" && esm[k] !== cjs[k]);',
      'const extra = Object.keys(esm).filter((k) => !(k in cjs));',
      'const p = createMemoryProvider();',
      'await p.put("a", { v: 1 });',
      'console.log(JSON.stringify({ missing, extra, v: (await p.get("a")).data.v }));',
    ].join('\n');
    const out = JSON.parse(run(['--input-type=module', '-e', script]));
    expect(out).toEqual({ missing: [], extra: [], v: 1 });
  });

  test('type declarations are shipped for both entries', () => {
    expect(existsSync(join(root, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'index.d.mts'))).toBe(true);
  });
});
