// How the file provider lays secrets out on disk: file suffixes, the JSON envelope around each
// secret, and the listing helpers that skip writes in progress (reads: file-read.ts).
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import type { Sealed } from './file-crypto';
import { LOCK_SUFFIX } from './file-lock';

export const SUFFIX = '.json';
export const TEMP_SUFFIX = '.esa-tmp';
/** Names the provider keeps for itself: secret files, writes in progress, lock files. */
export const RESERVED_SUFFIXES = [SUFFIX, TEMP_SUFFIX, LOCK_SUFFIX];

export interface Envelope {
  esa: 1;
  version: number;
  data?: Record<string, unknown>;
  sealed?: Sealed;
}

export function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && (value as Envelope).esa === 1 && typeof (value as Envelope).version === 'number';
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A temp file older than this was left by a process that died mid-write. */
export const STALE_TEMP_MS = 60_000;

/** Best effort: deletes a crashed writer's temp file (listing, e.g. by the session sweeper, finds them). */
export async function removeIfStale(file: string): Promise<void> {
  try {
    if (Date.now() - (await fs.stat(file)).mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true });
  } catch {
    // gone already, or not ours to remove: leave it
  }
}

/** Whether a folder holds any secret (so emptied folders vanish from listings, as in Vault). */
export async function hasSecrets(dir: string): Promise<boolean> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.endsWith(TEMP_SUFFIX) || entry.name.endsWith(LOCK_SUFFIX)) continue;
    if (entry.isFile()) return true;
    if (entry.isDirectory() && (await hasSecrets(nodePath.join(dir, entry.name)))) return true;
  }
  return false;
}
