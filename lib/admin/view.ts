import type { TokenInfo, TokenSource } from '../tokens/types';

/**
 * `expired` once past `expires_at`; `expiring` in the last third of its lifetime (so a new 7-day
 * token is `active`), or within `expiringWithin` of its expiry when its start is unknown.
 */
export type TokenState = 'active' | 'expiring' | 'expired';

/** A token as the JSON API shows it: metadata only, never a hash or the token. */
export interface TokenView {
  id: string;
  name: string;
  description: string;
  scopes: string[];
  source: TokenSource;
  state: TokenState;
  created_by: string | null;
  created_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  rotated_at: string | null;
  /** Until when the secret replaced by the last rotation still works. */
  previous_expires_at: string | null;
  /** Where automatic rotation delivers new secrets, or null (never rotated silently). */
  delivery_path: string | null;
}

/** Where a token's current lifetime began: its last rotation, else its creation. */
function lifetimeStart(info: TokenInfo): number | null {
  const at = info.rotatedAt ?? info.createdAt;
  return at ? Date.parse(at) : null;
}

/** The token's state at `now` (epoch ms). */
export function tokenState(info: TokenInfo, now: number, expiringWithinMs: number): TokenState {
  if (!info.expiresAt) return 'active';
  const expires = Date.parse(info.expiresAt);
  if (now >= expires) return 'expired';
  const start = lifetimeStart(info);
  if (start === null || start >= expires) return expires - now <= expiringWithinMs ? 'expiring' : 'active';
  return now >= start + ((expires - start) * 2) / 3 ? 'expiring' : 'active';
}

/** When a delivered token is due for automatic rotation: 2/3 of its lifetime, or null. */
export function rotationDue(info: TokenInfo): number | null {
  const start = lifetimeStart(info);
  if (!info.expiresAt || start === null) return null;
  const expires = Date.parse(info.expiresAt);
  return start < expires ? start + ((expires - start) * 2) / 3 : null;
}

/** The API view of a token. */
export function toView(info: TokenInfo & { deliveryPath?: string | null }, now: number, expiringWithinMs: number): TokenView {
  return {
    id: info.id,
    name: info.name,
    description: info.description,
    scopes: [...info.scopes],
    source: info.source,
    state: tokenState(info, now, expiringWithinMs),
    created_by: info.createdBy,
    created_at: info.createdAt,
    expires_at: info.expiresAt,
    last_used_at: info.lastUsedAt,
    rotated_at: info.rotatedAt,
    previous_expires_at: info.previousExpiresAt,
    delivery_path: info.deliveryPath ?? null,
  };
}
