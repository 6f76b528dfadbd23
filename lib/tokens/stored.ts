import type { SecretProvider } from '../providers/types';
import { isValidSegment } from '../providers/paths';
import { parseRecord } from './record';
import type { TokenRecord } from './types';

/** Children of `path` that hold no token: last-use records and (on KV v1) revocation tombstones. Token ids are 12 base62 characters, never these. */
const LAST_USED = 'last-used';
const REVOKED = 'revoked';

/** A stored record and its version (undefined on backends without versions, KV v1). */
export type FoundRecord = { record: TokenRecord; version?: number };

/**
 * Where stored tokens live in a provider: one record per token at `<path>/<id>`, its last use at
 * `<path>/last-used/<id>` and (KV v1 only) a revocation tombstone at `<path>/revoked/<id>`.
 * Shared by the part that manages records and the part that checks tokens.
 */
export class StoredTokens {
  constructor(
    readonly provider: SecretProvider,
    /** Normalised folder of the records. */
    readonly path: string,
  ) {}

  recordPath(id: string): string {
    return `${this.path}/${id}`;
  }

  lastUsedPath(id: string): string {
    return `${this.path}/${LAST_USED}/${id}`;
  }

  revokedPath(id: string): string {
    return `${this.path}/${REVOKED}/${id}`;
  }

  /** Whether `id` may name a stored token: a safe path segment that is none of the side folders. */
  isRecordId(id: string): boolean {
    return isValidSegment(id) && id !== LAST_USED && id !== REVOKED && id !== 'expiry-notices';
  }

  /** The ids of the stored records (from a LIST of `path`; folders and side folders left out). */
  async ids(): Promise<string[]> {
    return (await this.provider.list(this.path)).filter((k) => !k.endsWith('/') && this.isRecordId(k));
  }

  async read(id: string): Promise<FoundRecord | null> {
    const entry = await this.provider.get(this.recordPath(id));
    const record = entry && parseRecord(entry.data, id);
    return record ? { record, version: entry.version } : null;
  }

  /** Whether a revocation left its tombstone for `id` (backends without versions only). */
  async isRevoked(id: string): Promise<boolean> {
    return (await this.provider.get(this.revokedPath(id))) !== null;
  }

  /** Whether `found` was revoked although its record is still there (a tombstone; backends without versions only). */
  async hasTombstone(found: FoundRecord, id: string): Promise<boolean> {
    return found.version === undefined && (await this.isRevoked(id));
  }
}
