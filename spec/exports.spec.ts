// The published entry points: `require` and `import` both work and expose the same API.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

describe('package entry points (built dist/)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js')) || !existsSync(join(root, 'dist', 'index.mjs'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does it before jest)');
    }
  });

  test("require('express-secrets-auth') gives the CommonJS build", () => {
    const out = run(['-e', "const m = require('express-secrets-auth'); console.log(JSON.stringify(Object.keys(m).sort()))"]);
    const names = JSON.parse(out) as string[];
    expect(names).toEqual(expect.arrayContaining(['createVaultProvider', 'createFileProvider', 'createMemoryProvider', 'cached', 'ConfigError']));
  });

  test("import { ... } from 'express-secrets-auth' gives the same functions as require", () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "import * as esm from 'express-secrets-auth';",
      "import { createMemoryProvider } from 'express-secrets-auth';",
      'const cjs = createRequire(import.meta.url)("express-secrets-auth");',
      'const missing = Object.keys(cjs).filter((k) => k !== "__esModule" && esm[k] !== cjs[k]);',
      'const p = createMemoryProvider();',
      'await p.put("a", { v: 1 });',
      'console.log(JSON.stringify({ missing, v: (await p.get("a")).data.v }));',
    ].join('\n');
    const out = JSON.parse(run(['--input-type=module', '-e', script]));
    expect(out).toEqual({ missing: [], v: 1 });
  });

  test('type declarations are shipped for both entries', () => {
    expect(existsSync(join(root, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'index.d.mts'))).toBe(true);
  });
});
