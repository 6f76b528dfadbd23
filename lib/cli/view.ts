import { toView, type TokenView } from '../admin/view';
import type { TokenInfo } from '../tokens/types';
import { formatTable } from './table';

/** `expiringWithin` the CLI uses for `state` (the admin router's default). */
const EXPIRING_WITHIN_MS = 7 * 86_400_000;

/** A token as `--json` prints it: the HTTP API's snake_case view (`id, name, ..., state, created_by, ...`). */
export const jsonView = (info: TokenInfo, now = Date.now()): TokenView => toView(info, now, EXPIRING_WITHIN_MS);

/** The `list` table: one aligned row per token, long cells (not the id) cut to 30 characters. */
export function listTable(tokens: TokenInfo[], now = Date.now()): string {
  const rows = tokens.map((info) => {
    const t = jsonView(info, now);
    return [t.id, t.name, t.source, t.scopes.join(',') || '-', t.state, t.created_by ?? '-', t.expires_at ?? 'never'];
  });
  return formatTable(['ID', 'NAME', 'SOURCE', 'SCOPES', 'STATE', 'CREATED BY', 'EXPIRES'], rows, [0]);
}
