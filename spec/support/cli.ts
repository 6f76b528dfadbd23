// The operator CLI (the built dist/cli.js) run as a real OS process, for the specs in spec/cli/.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './compiled-library';

export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  /** Exit code (null when it was killed, e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cli.js ...args` with `env`; `input` is written to its standard input (which is
 * closed either way). A child that outlives `timeoutMs` (default 20 s) is killed (SIGKILL).
 * A child that exits before reading all of `input` is fine (EPIPE is ignored).
 */
export function runCli(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // EPIPE when the CLI stops reading early
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}
