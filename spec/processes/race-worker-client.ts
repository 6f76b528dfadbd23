// The spec side of race-worker.js: the backend a worker opens, and a handle that starts one worker
// process and calls its operations over IPC (shared by races.spec.ts and users-index.spec.ts).
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { compiledLibrary, workerProcessOptions } from '../support/compiled-library';
import { removeTempDir, tempDir } from '../support/temp-dir';

/** Where a worker's stores live; with `userIndex` its session store indexes sessions by their `user` field (`userOf`). */
type Paths = { tokensPath: string; sessionsPath: string; userIndex?: boolean };

export type Backend =
  | ({ kind: 'file'; basePath: string } & Paths)
  | ({
      kind: 'vault';
      /** One node; `addresses` (every node of a Raft cluster) wins when set. */
      address: string;
      addresses?: string[];
      token: string;
      mount: string;
      kvVersion: 1 | 2;
    } & Paths);

/** A worker process (race-worker.js) answering calls over IPC. */
export class Proc {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const waiting = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.ok) waiting?.resolve(msg.result);
      else waiting?.reject(new Error(`worker ${child.pid}: ${msg.error}`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      for (const w of this.pending.values()) w.reject(new Error(`worker ${child.pid} exited (${signal ?? code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static start(libDir: string): Promise<Proc> {
    const child = fork(join(__dirname, 'race-worker.js'), [libDir], {
      ...workerProcessOptions(),
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const proc = new Proc(child);
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(proc));
      child.once('exit', (code) => reject(new Error(`worker exited before it was ready (${code}): ${proc.stderr}`)));
    });
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call('close').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The compiled library the workers load, built at most once per spec file (dist/ when fresh); call `remove()` in afterAll. */
export function workerLibrary(): { dir(): Promise<string>; remove(): Promise<void> } {
  let library: Promise<string> | undefined;
  let scratch: string | undefined;
  return {
    dir() {
      library ??= tempDir('esa-workers-build-').then((dir) => {
        scratch = dir;
        return compiledLibrary(dir).then((built) => built.libDir);
      });
      return library;
    },
    async remove() {
      if (scratch) await removeTempDir(scratch);
    },
  };
}
