import type { SecretEntry, SecretProvider } from './types';

/**
 * Default ms between a write without check-and-set and its read-back: longer than one backend
 * round trip, so every racer's write (each sent one round trip after its own read) has landed.
 */
export const SETTLE_MS = 250;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * For backends without check-and-set (KV v1): writes `data` at `path`, waits `settleMs`, and
 * resolves with what is stored then. Racers that all write and read back this way read the same
 * entry — the last write — so they agree on one winner without a compare-and-swap; the bound is a
 * racer whose write lands more than `settleMs` after another racer's read-back.
 */
export async function writeSettled(provider: SecretProvider, path: string, data: Record<string, unknown>, settleMs = SETTLE_MS): Promise<SecretEntry | null> {
  await provider.put(path, data);
  return readSettled(provider, path, settleMs);
}

/** Waits `settleMs` and reads `path` again: for an entry read so soon after it was written that a racer's write may still land. */
export async function readSettled(provider: SecretProvider, path: string, settleMs = SETTLE_MS): Promise<SecretEntry | null> {
  await pause(settleMs);
  return provider.get(path);
}
