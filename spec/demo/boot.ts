// Starts a program as a child process, as a newcomer would from a terminal, and waits for what it
// prints. Every process started here is ended by its PID (SIGTERM, then SIGKILL after 5 s).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { sleep } from '../support/sleep';

export interface Booted {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

export function boot(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Booted {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `pattern` shows in the output (its match), or throws on exit or after `ms`. */
export async function waitFor(p: Booted, pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(p.output());
    if (m) return m;
    if (p.child.exitCode !== null) throw new Error(`exited with ${p.child.exitCode} before printing ${pattern}:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`${pattern} not printed within ${ms} ms:\n${p.output()}`);
    await sleep(50);
  }
}

/** The exit code, or throws when the process is still running after `ms`. */
export async function exitCode(p: Booted, ms = 30_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${p.output()}`)), ms);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port on 127.0.0.1 held by a listener of ours until `release()`. */
export async function takenPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const held = await takenPort();
  await held.release();
  return held.port;
}

/** Lines that look like a stack trace or an absolute path of this checkout. */
export function stackOrPaths(text: string, root: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s/.test(line) || line.includes(root) || /\bnode:internal\b/.test(line));
}
