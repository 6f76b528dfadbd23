// Cross-process lock files for the file provider: one `<data file>.esa-lock` per secret path, so
// check-and-set holds across every process that opens the same basePath on one host.
//
// Why not proper-lockfile: its stale-lock reclaim is remove-then-create, so two processes that
// both judge one stale lock can both end up holding the lock (moxystudio/node-proper-lockfile
// issue #121, open). Here a stale lock is claimed by an atomic rename to a unique name, only the
// one process whose rename moved the very inode it judged stale removes it, and a holder checks
// that the lock path still names its own (open, so never reused) inode right before it commits.
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { promises as fs } from 'node:fs';
import { BackendError, ConfigError, SecretsAuthError } from '../errors';

export const LOCK_SUFFIX = '.esa-lock';
/** Claimed stale locks are renamed to `<lock>.<hex>.esa-tmp` (hidden like any temp file). */
const CLAIM_SUFFIX = '.esa-tmp';

export const DEFAULT_LOCK_STALE_MS = 5_000;
export const MIN_LOCK_STALE_MS = 1_000;
export const MAX_LOCK_STALE_MS = 600_000;

/** Waiters retry after a jittered delay (half to all of a step that doubles from 2 ms) of at most this. */
const MAX_RETRY_DELAY_MS = 50;

/** `lockStaleMs` as given, or a ConfigError that says what is accepted. */
export function lockStaleMsOf(value: unknown): number {
  if (value === undefined) return DEFAULT_LOCK_STALE_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < MIN_LOCK_STALE_MS || value > MAX_LOCK_STALE_MS) {
    const got = typeof value === 'number' ? String(value) : `a ${typeof value}`;
    throw new ConfigError(
      `file provider: lockStaleMs must be a number of milliseconds from ${MIN_LOCK_STALE_MS} to ${MAX_LOCK_STALE_MS} (got ${got}); the default is ${DEFAULT_LOCK_STALE_MS}`,
    );
  }
  return value;
}

/** Thrown by `assertHeld` when another process took the lock over (this one stalled past lockStaleMs). */
export class LockLostError extends SecretsAuthError<'LOCK_LOST'> {
  constructor() {
    super('LOCK_LOST', 'the lock file was taken over by another process');
  }
}

/** A held lock: refreshed in the background until released. */
export interface HeldLock {
  /** Rejects with LockLostError unless the lock path still names this holder's lock file. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface FileLocker {
  /**
   * Takes the lock for `dataFile` (waits while another live process holds it; takes over a lock
   * not refreshed for `staleMs`). `openFolder` runs when the folder is missing: it creates it and
   * resolves true, or resolves false to say "nothing to lock" (then acquire resolves null).
   */
  acquire(dataFile: string, openFolder: () => Promise<boolean>): Promise<HeldLock | null>;
  readonly staleMs: number;
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createFileLocker(staleMs: number): FileLocker {
  // A live holder refreshes far more often than a waiter would call it stale.
  const refreshMs = Math.floor(staleMs / 4);
  // A waiter that cannot get the lock in this time (a live holder that keeps it, e.g. a hung
  // disk) gives up with an error instead of hanging its caller forever.
  const giveUpMs = staleMs * 4;

  async function create(lockFile: string): Promise<HeldLock> {
    const handle: FileHandle = await fs.open(lockFile, 'wx', 0o600);
    let mine: { dev: number; ino: number };
    try {
      await handle.writeFile(`${process.pid}\n`, 'utf8');
      const stat = await handle.stat();
      mine = { dev: stat.dev, ino: stat.ino };
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fs.unlink(lockFile).catch(() => undefined);
      throw err;
    }
    // The open handle keeps the inode alive, so no other file can get its number while held.
    const timer = setInterval(() => {
      const now = new Date();
      handle.utimes(now, now).catch(() => undefined);
    }, refreshMs);
    timer.unref();
    let released = false;
    const held = async (): Promise<boolean> => {
      const stat = await fs.stat(lockFile).catch(() => null);
      return stat !== null && stat.ino === mine.ino && stat.dev === mine.dev;
    };
    return {
      async assertHeld() {
        if (!(await held())) throw new LockLostError();
      },
      async release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          if (await held()) await fs.unlink(lockFile).catch(() => undefined);
        } finally {
          await handle.close().catch(() => undefined);
        }
      },
    };
  }

  /**
   * Removes `lockFile` if it is (still) the stale one seen as `seen`: renames it to a unique name
   * (one process wins), checks the moved inode is the stale one, and removes it; a fresh lock
   * moved by mistake (taken over and re-created in between) is linked back at once.
   */
  async function takeOver(lockFile: string, seen: { dev: number; ino: number; mtimeMs: number }): Promise<void> {
    const claim = `${lockFile}.${randomBytes(6).toString('hex')}${CLAIM_SUFFIX}`;
    try {
      await fs.rename(lockFile, claim);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return; // another waiter was faster
      throw err;
    }
    const moved = await fs.stat(claim).catch(() => null);
    if (moved && (moved.ino !== seen.ino || moved.dev !== seen.dev || moved.mtimeMs !== seen.mtimeMs)) {
      // Not the stale lock: give it back to its live holder (EEXIST: a third process created one
      // meanwhile; the holder then sees it lost the lock before it commits).
      await fs.link(claim, lockFile).catch(() => undefined);
    }
    await fs.unlink(claim).catch(() => undefined);
  }

  return {
    staleMs,
    async acquire(dataFile, openFolder) {
      const lockFile = dataFile + LOCK_SUFFIX;
      const started = Date.now();
      let delay = 2;
      for (;;) {
        try {
          return await create(lockFile);
        } catch (err) {
          const code = codeOf(err);
          if (code === 'ENOENT') {
            if (!(await openFolder())) return null;
            continue;
          }
          if (code !== 'EEXIST') throw err;
        }
        const stat = await fs.stat(lockFile).catch(() => null);
        if (stat === null) continue; // released just now: try again at once
        if (Date.now() - stat.mtimeMs > staleMs) {
          // Look again right before the rename, so a waiter that stalled after its first look
          // does not move a lock that is no longer the stale one.
          const again = await fs.stat(lockFile).catch(() => null);
          if (again && again.ino === stat.ino && again.mtimeMs === stat.mtimeMs) await takeOver(lockFile, again);
          continue;
        }
        if (Date.now() - started > giveUpMs) {
          throw new BackendError(
            `file provider: another process has held a lock for over ${giveUpMs} ms and keeps it fresh; check for a stuck process or a hung disk`,
          );
        }
        await sleep(delay / 2 + (Math.random() * delay) / 2);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    },
  };
}
