/**
 * Consistency on Vault / OpenBao clusters whose standbys answer requests from their own copy
 * (OpenBao 2.5+, Vault Enterprise performance standbys). A standby serves a read locally, and a
 * write too as long as it needs no storage write: a KV v2 delete of a key the standby has not
 * replicated yet answers 204 and deletes nothing; a check-and-set against its old copy answers a
 * false conflict. Every answer to an authenticated (or `sys/internal/ui/mounts`) request carries
 * an `X-Vault-Index` (the storage index its node had reached); a request that sends an index plus
 * `X-Vault-Inconsistent: forward-active-node` is served by a standby only once it has caught up
 * with that index, and forwarded to the active node otherwise.
 *
 * - Writes, in both modes: an index no standby can have reached (OpenBao's index is base64 JSON
 *   `{ cluster, value }`, so the cluster's id with the largest value), so every write is applied by
 *   the active node, against every acknowledged write.
 * - 'strong' reads: the same index, so every read is answered by the active node.
 * - 'eventual' reads: the index of this process's latest write, so a process always reads its own
 *   writes while other instances' writes may show up a replication delay later.
 *
 * The cluster id is learned before the first request (see VaultHttp: `sys/internal/ui/mounts`,
 * unauthenticated, answers with an index on every node), so no request goes out without it.
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

const first = (header: string | string[] | undefined): string | undefined => (Array.isArray(header) ? header[0] : header);

/** Tracks the indexes a process has seen and builds the consistency headers of each request. */
export class ConsistencyTracker {
  private lastWrite?: string;
  private lastWriteValue?: string;
  private future?: string;
  private answered = false;

  constructor(readonly mode: VaultConsistency) {}

  /**
   * Whether the server still has to show whether it sends OpenBao indexes: until then no request
   * may go out, since one without the cluster's index can be answered by a stale standby.
   */
  get unlearned(): boolean {
    return !this.answered && this.future === undefined;
  }

  /** The answer to the request that learns the cluster (`status` 200): with an OpenBao index or without any. */
  learned(header: string | string[] | undefined): void {
    this.observe(header, false);
    this.answered = true;
  }

  /** Remembers the `X-Vault-Index` of an answer (`write`: the answer to a write). */
  observe(header: string | string[] | undefined, write: boolean): void {
    const value = first(header);
    if (!value) return;
    const decoded = decode(value);
    if (decoded) this.future ??= Buffer.from(JSON.stringify({ cluster: decoded.cluster, value: FUTURE_VALUE })).toString('base64');
    if (!write) return;
    // Answers to concurrent writes can arrive out of order: keep the highest index.
    if (decoded && this.lastWriteValue !== undefined && !newer(decoded.value, this.lastWriteValue)) return;
    this.lastWrite = value;
    this.lastWriteValue = decoded?.value;
  }

  /** Headers for a write. */
  writeHeaders(): Record<string, string> {
    return this.future ? { 'X-Vault-Inconsistent': 'forward-active-node', 'X-Vault-Index': this.future } : {};
  }

  /** Headers for a read. */
  readHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'X-Vault-Inconsistent': 'forward-active-node' };
    if (this.mode === 'strong' && this.future) headers['X-Vault-Index'] = this.future;
    else if (this.lastWrite) headers['X-Vault-Index'] = this.lastWrite;
    return headers;
  }
}
