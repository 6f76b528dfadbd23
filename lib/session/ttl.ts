import type { SessionData } from 'express-session';
import { ConfigError } from '../errors';

export type TtlOption = number | ((session: SessionData) => number);

/** connect-redis v9: `opts.ttl || 86400` — a missing or zero ttl means one day. */
export const DEFAULT_TTL_SECONDS = 86_400;

/**
 * When a session written now expires, in ms since the epoch, following connect-redis v9's order
 * (a `ttl` function wins; else the cookie's `expires`; else `ttl` seconds) but without rounding
 * to seconds: a cookie that expires in 5 ms gives a record that expires in 5 ms.
 * `cookie.expires` may be a Date, an ISO string, or null (browser-session cookie).
 */
export function expiryOf(session: SessionData, ttl: TtlOption, now: number): number {
  if (typeof ttl === 'function') {
    const seconds = ttl(session);
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
      throw new ConfigError('session store: the ttl function must return a number of seconds');
    }
    return now + seconds * 1000;
  }
  const expires = (session as { cookie?: { expires?: Date | string | null } } | undefined)?.cookie?.expires;
  if (expires) {
    const at = new Date(expires).getTime();
    if (Number.isFinite(at)) return at;
  }
  return now + ttl * 1000;
}
