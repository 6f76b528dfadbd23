/**
 * Read consistency on Vault / OpenBao clusters whose standbys serve reads from their own copy
 * (OpenBao 2.5+, Vault Enterprise performance standbys). Every write's answer carries an
 * `X-Vault-Index` (the storage index it reached); a read that sends an index plus
 * `X-Vault-Inconsistent: forward-active-node` is served by a standby only once it has caught up
 * with that index, and forwarded to the active node otherwise.
 *
 * - 'eventual': reads send the index of this process's latest write, so a process always reads its
 *   own writes while other instances' writes may show up a replication delay later.
 * - 'strong': reads send an index no standby can have reached (OpenBao's index is base64 JSON
 *   `{ cluster, value }`, so one with the largest value), so every read is answered by the active
 *   node, which has every acknowledged write. Reads are also sent to the active node directly.
 */
export type VaultConsistency = 'strong' | 'eventual';

interface OpenBaoIndex {
  cluster: string;
  value: string;
}

const FUTURE_VALUE = '18446744073709551615'; // max uint64: no node ever reaches it

function decode(header: string): OpenBaoIndex | null {
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Partial<OpenBaoIndex>;
    if (typeof parsed?.cluster === 'string' && typeof parsed.value === 'string' && /^\d+$/.test(parsed.value)) {
      return { cluster: parsed.cluster, value: parsed.value };
    }
  } catch {
    // not OpenBao's format (Vault Enterprise's index is opaque): use it as it is
  }
  return null;
}

const newer = (a: string, b: string): boolean => a.length > b.length || (a.length === b.length && a > b);

/** Tracks the indexes a process has seen and builds the read headers for its consistency mode. */
export class ConsistencyTracker {
  private lastWrite?: string;
  private lastWriteValue?: string;
  private cluster?: string;

  constructor(readonly mode: VaultConsistency) {}

  /** Remembers the `X-Vault-Index` of an answer (`write`: the answer to a write). */
  observe(header: string | string[] | undefined, write: boolean): void {
    const value = Array.isArray(header) ? header[0] : header;
    if (!value) return;
    const decoded = decode(value);
    if (decoded) this.cluster ??= decoded.cluster;
    if (!write) return;
    // Answers to concurrent writes can arrive out of order: keep the highest index.
    if (decoded && this.lastWriteValue !== undefined && !newer(decoded.value, this.lastWriteValue)) return;
    this.lastWrite = value;
    this.lastWriteValue = decoded?.value;
  }

  /** Headers for a read. */
  readHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'X-Vault-Inconsistent': 'forward-active-node' };
    if (this.mode === 'strong' && this.cluster) {
      headers['X-Vault-Index'] = Buffer.from(JSON.stringify({ cluster: this.cluster, value: FUTURE_VALUE })).toString('base64');
    } else if (this.lastWrite) {
      headers['X-Vault-Index'] = this.lastWrite;
    }
    return headers;
  }
}
