// The compiled library for specs that run it outside jest (child processes, the CLI, the packed
// package): dist/ when it is newer than every file in lib/, else lib/ transpiled into a scratch folder;
// and the one check that dist/ has been built, for specs that need dist/ itself.
import { existsSync, promises as fs, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '..', '..');

/**
 * Where and with what environment a worker process that loads the compiled library runs: the
 * repository as its folder, and NODE_PATH on its node_modules, so a transpiled copy outside the
 * repository finds the dependencies.
 */
export function workerProcessOptions(): { cwd: string; env: NodeJS.ProcessEnv } {
  return { cwd: ROOT, env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } };
}

/** Throws, saying how to fix it, unless `npm run build` has written each of `files` (paths inside dist/). */
export function requireBuiltDist(...files: string[]): void {
  const missing = files.filter((file) => !existsSync(join(ROOT, 'dist', file)));
  if (missing.length > 0) throw new Error(`dist/${missing[0]} is missing: run \`npm run build\` (npm test does it before jest)`);
}

/** Newest modification time (ms) of the files under `dir`. */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The compiled library for the child: dist/ when it is newer than every file in lib/ (as in
 * `npm test`, which builds first), else lib/ transpiled into `scratch` now (a few hundred ms;
 * ts-node in each of the 20 children would cost ~1-2 s per start).
 */
export async function compiledLibrary(scratch: string): Promise<{ libDir: string; via: string }> {
  const dist = join(ROOT, 'dist');
  const distTime = await fs.stat(join(dist, 'index.js')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const lib = join(ROOT, 'lib');
  if (distTime > (await newestMtime(lib))) return { libDir: dist, via: 'dist' };
  const out = join(scratch, 'lib');
  for (const entry of await fs.readdir(lib, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(out, relative(lib, source)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(await fs.readFile(source, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.writeFile(target, outputText);
  }
  return { libDir: out, via: 'lib transpiled by the spec' };
}
