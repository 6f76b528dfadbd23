// The direction of imports inside lib/ and the size of its files, read from the source itself.
// Both checks carry an allow-list of what is wrong today: the spec passes now, fails on any new
// violation, and fails when an allowed entry has gone (so the lists only ever shrink).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const LIB = resolve(__dirname, '..', '..', 'lib');

/** Every .ts file under lib/, as a path relative to lib/ with `/` separators. */
function libFiles(): string[] {
  return readdirSync(LIB, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(LIB, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/**
 * The layer a lib/ file belongs to: its top folder (`providers`, `session`, ...), or for a file
 * directly in lib/ its name without `.ts` (`setup`, `errors`, ...). `cli.ts` and `cli/` are one layer.
 */
function layerOf(file: string): string {
  const [top] = file.split('/');
  return top.replace(/\.ts$/, '');
}

interface LibImport {
  from: string;
  to: string;
}

/** Every relative import (static, `export ... from`, `import()`, `require()`) between lib/ files. */
function libImports(): LibImport[] {
  const found: LibImport[] = [];
  for (const file of libFiles()) {
    const info = ts.preProcessFile(readFileSync(join(LIB, file), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = relative(LIB, resolve(LIB, dirname(file), fileName))
        .split(sep)
        .join('/');
      found.push({ from: file, to: target.endsWith('.ts') ? target : `${target}.ts` });
    }
  }
  return found;
}

const ABOVE_SHARED = ['providers', 'session', 'tokens', 'admin', 'config', 'setup', 'cli', 'index'];

/** Which layers each layer must not import. */
const FORBIDDEN: Record<string, string[]> = {
  shared: ABOVE_SHARED, // shared helpers at the bottom (lib/shared/, lib/errors.ts, lib/timers.ts)
  errors: ABOVE_SHARED,
  timers: ABOVE_SHARED,
  providers: ['session', 'tokens', 'admin', 'config', 'setup', 'cli', 'index'],
  session: ['admin', 'cli', 'setup', 'index'],
  tokens: ['admin', 'cli', 'setup', 'index', 'config'],
  admin: ['cli', 'setup', 'index', 'config'],
};

/**
 * Imports that break a rule today: none since issue 14 (durations, the watcher type and object
 * checks live in lib/shared/; config/ keeps only the wiring beside setup.ts). Never add a line:
 * move the shared piece down instead.
 */
const ALLOWED_LAYER_VIOLATIONS: string[] = [];

/** Largest a lib/ file may be, in lines. */
const MAX_LINES = 320;

/** Files over MAX_LINES today, with their size now as a ceiling (issue 14 splits them). */
const ALLOWED_LONG_FILES: Record<string, number> = {};

function lineCount(file: string): number {
  const text = readFileSync(join(LIB, file), 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('lib/ layers point one way', () => {
  const violations = libImports()
    .filter(({ from, to }) => FORBIDDEN[layerOf(from)]?.includes(layerOf(to)))
    .map(({ from, to }) => `${from} -> ${to}`);

  test('the import reader sees the imports (a check that reads nothing would pass anything)', () => {
    const imports = libImports();
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: 'setup.ts', to: 'session/store.ts' });
  });

  test('no import breaks a rule beyond the allow-list', () => {
    expect(violations.filter((v) => !ALLOWED_LAYER_VIOLATIONS.includes(v))).toEqual([]);
  });

  test('every allow-listed import still exists (delete the lines that have been fixed)', () => {
    expect(ALLOWED_LAYER_VIOLATIONS.filter((v) => !violations.includes(v))).toEqual([]);
  });
});

describe(`lib/ files stay under ${MAX_LINES} lines`, () => {
  const sizes = new Map(libFiles().map((file) => [file, lineCount(file)]));

  test('no file is over the limit beyond the allow-list, and no allowed file grows', () => {
    const over = [...sizes].filter(([file, lines]) => lines > (ALLOWED_LONG_FILES[file] ?? MAX_LINES)).map(([file, lines]) => `${file}: ${lines} lines`);
    expect(over).toEqual([]);
  });

  test('every allow-listed file is still over the limit (delete the lines that have been split)', () => {
    const fixed = Object.keys(ALLOWED_LONG_FILES).filter((file) => (sizes.get(file) ?? 0) <= MAX_LINES);
    expect(fixed).toEqual([]);
  });
});
