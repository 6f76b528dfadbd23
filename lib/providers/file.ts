import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { BackendError, ConfigError, ConflictError, DecryptionError, InvalidPathError } from '../errors';
import { deriveKey, seal, unseal } from './file-crypto';
import { withFileErrors } from './file-errors';
import { type Envelope, hasSecrets, isEnvelope, isMissing, RESERVED_SUFFIXES, removeIfStale, SUFFIX, TEMP_SUFFIX } from './file-layout';
import { createReader } from './file-read';
import { createFileLocker, type HeldLock, LOCK_SUFFIX, LockLostError, lockStaleMsOf } from './file-lock';
import { isValidSegment, parsePath, parsePrefix } from './paths';
import type { PutOptions, SecretEntry, SecretProvider } from './types';

export interface FileProviderOptions {
  /** Folder that holds one file per secret. Created (0700) when absent. */
  basePath: string;
  /**
   * Encrypt every secret with AES-256-GCM: 64 hex chars, base64 of 32 bytes, a 32-byte Buffer, or
   * a passphrase of 16+ characters (stretched with scrypt once at start-up). Default: no encryption.
   */
  encryptionKey?: string | Buffer;
  /** fsync each file before it is renamed into place. Default true. */
  fsync?: boolean;
  /**
   * Read secret files synchronously while reads are fast (a few µs from the page cache, less than
   * an asynchronous read's thread-pool round trips); three reads in a row slower than 1 ms send the next minute
   * of reads to the thread pool. Default true; false reads asynchronously always.
   */
  syncReads?: boolean;
  /**
   * Milliseconds after which a lock file that its holder stopped refreshing (the process was
   * killed) is taken over by another process. Holders refresh every lockStaleMs / 4.
   * Default 5000; 1000 to 600000.
   */
  lockStaleMs?: number;
}

/** Times a write starts again after its lock was taken over (it stalled past lockStaleMs). */
const LOCK_LOST_ATTEMPTS = 3;

/**
 * One JSON file per secret under `basePath` (`a/b` is stored in `basePath/a/b.json`), written
 * atomically: temp file (0600) + fsync + rename. A plain-text file at `basePath/a/b` (no `.json`)
 * reads as `{ value: <its text> }`, for secrets mounted as files. Writes to one path are
 * serialised within the process (a promise chain) and across processes (a lock file, see
 * file-lock.ts), and read the current version from disk under the lock, so versions and
 * check-and-set are exact across every process on the same basePath.
 */
export function createFileProvider(options: FileProviderOptions): SecretProvider {
  if (!options || typeof options.basePath !== 'string' || options.basePath === '') {
    throw new ConfigError('file provider: basePath is required');
  }
  const base = nodePath.resolve(options.basePath);
  const key = options.encryptionKey === undefined ? undefined : deriveKey(options.encryptionKey);
  const doFsync = options.fsync ?? true;
  if (options.syncReads !== undefined && typeof options.syncReads !== 'boolean') throw new ConfigError('file provider: syncReads must be true or false');
  const readText = createReader(options.syncReads ?? true);
  const locker = createFileLocker(lockStaleMsOf(options.lockStaleMs));
  const locks = new Map<string, Promise<unknown>>();
  // Folders known to exist skip mkdir. (No cache of versions: another process may have written.)
  const folders = new Set<string>();
  let baseReady: Promise<void> | undefined;

  function locate(segments: string[]): string {
    // File names carry meaning here: `x.json` stores secret `x`, `*.esa-tmp` is a write in
    // progress, `*.esa-lock` a lock.
    if (segments.some((segment) => RESERVED_SUFFIXES.some((suffix) => segment.endsWith(suffix)))) {
      throw new InvalidPathError(`the file provider keeps names ending in ${RESERVED_SUFFIXES.map((s) => `"${s}"`).join(', ')} for itself`);
    }
    const file = nodePath.join(base, ...segments);
    // Defence in depth: segments are already validated, but never leave the base folder.
    if (file !== base && !file.startsWith(base + nodePath.sep)) throw new InvalidPathError('path escapes the base folder');
    return file;
  }

  function ensureBase(): Promise<void> {
    baseReady ??= fs.mkdir(base, { recursive: true, mode: 0o700 }).then(() => undefined);
    return baseReady;
  }

  function envelopeOf(path: string, text: string): Envelope {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BackendError(`Secret file for "${path}" is not valid JSON; restore it from a backup or delete it.`);
    }
    if (!isEnvelope(parsed)) throw new BackendError(`Secret file for "${path}" is not in the expected format.`);
    return parsed;
  }

  function decode(path: string, text: string): SecretEntry {
    const parsed = envelopeOf(path, text);
    if (parsed.sealed) {
      if (!key) throw new ConfigError(`file provider: "${path}" is encrypted; set encryptionKey to read it`);
      const plain = unseal(key, parsed.sealed, `${path}#${parsed.version}`);
      if (plain === null) throw new DecryptionError(path);
      return { data: JSON.parse(plain) as Record<string, unknown>, version: parsed.version };
    }
    if (key) throw new DecryptionError(path);
    return { data: parsed.data ?? {}, version: parsed.version };
  }

  async function read(path: string, segments: string[]): Promise<SecretEntry | null> {
    const file = locate(segments);
    try {
      return decode(path, await readText(file + SUFFIX));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) return null;
      return { data: { value: (await readText(file)).replace(/\r?\n$/, '') } };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** The stored version (0 when absent), from the envelope alone: no decryption needed. */
  async function versionOf(path: string, file: string): Promise<number> {
    try {
      return envelopeOf(path, await readText(file + SUFFIX)).version;
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
  }

  async function createFolder(dir: string): Promise<true> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    folders.add(dir);
    return true;
  }

  /**
   * Takes the cross-process lock of `file` (the secret's file without `.json`). `create`: make the
   * folder when missing (put); else a missing folder means nothing to lock (delete) and gives null.
   */
  async function lockFile(file: string, create: boolean): Promise<HeldLock | null> {
    const dir = nodePath.dirname(file);
    if (create && !folders.has(dir)) await createFolder(dir);
    return locker.acquire(file + SUFFIX, async () => {
      folders.delete(dir); // removed behind our back
      return create ? createFolder(dir) : false;
    });
  }

  /** Writes `contents` to a fresh temp file next to `file` (fsync'ed) and returns its name. */
  async function writeTemp(file: string, contents: string): Promise<string> {
    const temp = `${file}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(contents, 'utf8');
      if (doFsync) await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fs.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    return temp;
  }

  /** Commits a temp file with rename, if this process still holds the lock; else removes it. */
  async function commit(temp: string, file: string, lock: HeldLock): Promise<void> {
    try {
      await lock.assertHeld();
      await fs.rename(temp, file);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  /** Runs `fn` under the path's cross-process lock; starts again (bounded) if the lock was lost. */
  async function underFileLock<T>(file: string, create: boolean, fn: (lock: HeldLock) => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      const lock = await lockFile(file, create);
      if (lock === null) return undefined;
      try {
        return await fn(lock);
      } catch (err) {
        if (!(err instanceof LockLostError)) throw err;
        if (attempt >= LOCK_LOST_ATTEMPTS) {
          throw new BackendError(
            `file provider: a lock was taken over ${attempt} times in a row while writing; is the event loop blocked for over ${locker.staleMs} ms?`,
          );
        }
      } finally {
        await lock.release();
      }
    }
  }

  /** Serialises operations on one path so check-and-set is exact within the process. */
  function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(path) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    locks.set(path, settled);
    void settled.then(() => {
      if (locks.get(path) === settled) locks.delete(path);
    });
    return run;
  }

  return withFileErrors({
    kind: 'file',

    async get(path) {
      return read(path, parsePath(path));
    },

    async put(path, data, opts: PutOptions = {}) {
      const segments = parsePath(path);
      await ensureBase();
      const file = locate(segments);
      const written = await withLock(path, () =>
        underFileLock(file, true, async (lock) => {
          // Read under the lock: another process may have written since this one last did.
          const current = await versionOf(path, file);
          if (opts.cas !== undefined && opts.cas !== current) throw new ConflictError(path, opts.cas, current);
          const version = current + 1;
          const envelope: Envelope = key ? { esa: 1, version, sealed: seal(key, JSON.stringify(data), `${path}#${version}`) } : { esa: 1, version, data };
          await commit(await writeTemp(file + SUFFIX, JSON.stringify(envelope)), file + SUFFIX, lock);
          return { version };
        }),
      );
      if (written === undefined) throw new BackendError('file provider: the folder could not be created');
      return written;
    },

    async delete(path) {
      const segments = parsePath(path);
      const file = locate(segments);
      await withLock(path, () =>
        // No folder: nothing to delete and no lock to take.
        underFileLock(file, false, async (lock) => {
          await lock.assertHeld();
          await fs.rm(file + SUFFIX, { force: true });
          // A plain-text secret (a mounted file) is a secret too: delete means gone.
          if ((await fs.stat(file).catch(() => null))?.isFile()) await fs.rm(file, { force: true });
        }),
      );
    },

    async list(prefix) {
      const dir = locate(parsePrefix(prefix));
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      const names = new Set<string>();
      for (const entry of entries) {
        if (entry.name.endsWith(TEMP_SUFFIX)) {
          void removeIfStale(nodePath.join(dir, entry.name));
          continue;
        }
        if (entry.name.endsWith(LOCK_SUFFIX) || !isValidSegment(entry.name)) continue;
        if (entry.isDirectory()) {
          if (await hasSecrets(nodePath.join(dir, entry.name))) names.add(`${entry.name}/`);
        } else if (entry.isFile()) {
          names.add(entry.name.endsWith(SUFFIX) ? entry.name.slice(0, -SUFFIX.length) : entry.name);
        }
      }
      return [...names].sort();
    },

    async close() {
      await Promise.all([...locks.values()]);
    },

    async supportsCheckAndSet() {
      return true;
    },
  });
}
