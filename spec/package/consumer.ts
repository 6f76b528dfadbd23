// Builds a throwaway consumer project around the packed tarball (`npm pack`), offline: the package
// is unpacked into the project's node_modules, its dependencies are symlinks to this checkout's.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../support/temp-dir';
import { requireBuiltDist } from '../support/compiled-library';

export const ROOT = resolve(__dirname, '..', '..');
export const PACKAGE = 'express-secrets-auth';

export interface Consumer {
  dir: string;
  tarball: string;
}

/** `npm pack` into a temp folder, unpacked as `node_modules/express-secrets-auth` of a new project. */
export async function packedConsumer(): Promise<Consumer> {
  requireBuiltDist('index.d.ts');
  const dir = await tempDir('esa-consumer-');
  const out = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const tarball = join(dir, out.trim().split('\n').pop() as string);
  const modules = join(dir, 'node_modules');
  const target = join(modules, PACKAGE);
  await mkdir(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name === PACKAGE || name.startsWith('.')) continue;
    await symlink(join(ROOT, 'node_modules', name), join(modules, name));
  }
  // npm would link the package's bin too: `npx express-secrets-auth` then runs it, offline.
  await mkdir(join(modules, '.bin'), { recursive: true });
  await symlink(join('..', PACKAGE, 'dist', 'cli.js'), join(modules, '.bin', PACKAGE));
  await chmod(join(target, 'dist', 'cli.js'), 0o755); // as npm does for a package's bin
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'esa-consumer', version: '1.0.0', private: true }));
  return { dir, tarball };
}

/** tsc of this checkout (the version package-lock.json pins) on the consumer's tsconfig. */
export function typecheck(dir: string, project: string): { status: number; output: string } {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    const output = execFileSync(process.execPath, [tsc, '-p', join(dir, project)], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stdout}${e.stderr}` };
  }
}
