import type { Request, Response, Router } from 'express';
import { ConfigError } from '../errors';
import type { SessionAuditor } from './audit';
import { ApiError } from './errors';
import { wrap } from './routes';
import type { SessionAdminBackend } from './types';

/** Longest user id accepted in a request (an e-mail address is at most 254). */
export const MAX_USER_LENGTH = 512;

/** What the session routes share. */
export interface SessionRouteContext {
  sessions: SessionAdminBackend;
  audit: SessionAuditor;
}

const bad = (message: string) => new ApiError(400, 'invalid_request', message);

/** A user id from the query or the URL: one non-empty string without control characters. */
function parseUser(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw bad(`${where} must be one user id.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (value.length > MAX_USER_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
    throw bad(`${where} must be at most ${MAX_USER_LENGTH} characters, without control characters.`);
  }
  return value;
}

/** Listing or ending by user needs the store's index; without `userOf` the store refuses with a ConfigError. */
async function byUser<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ApiError(501, 'not_configured', 'Sessions cannot be found by user: give the session store the `userOf` option.');
    }
    throw err;
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

/** Registers `GET /sessions?user=`, `DELETE /sessions/:key` and `DELETE /users/:user/sessions`. */
export function addSessionRoutes(router: Router, ctx: SessionRouteContext): void {
  router.get(
    '/sessions',
    wrap(async (req: Request, res: Response) => {
      const user = parseUser(req.query.user, 'The query parameter "user"');
      const sessions = await byUser(() => ctx.sessions.sessionsOf(user));
      noStore(res);
      res.json({
        user,
        sessions: sessions.map((s) => ({ key: s.key, created_at: iso(s.createdAt), last_seen_at: iso(s.lastSeenAt), expires_at: iso(s.expiresAt) })),
      });
    }),
  );

  router.delete(
    '/sessions/:key',
    wrap(async (req: Request, res: Response) => {
      const key = String(req.params.key);
      // Checked before any backend call: the key comes from the request (its "/" is sent as %2F).
      if (!ctx.sessions.isSessionKey(key)) throw bad('The key in the URL is not a session key of this store (as GET /sessions lists them).');
      if (!(await ctx.sessions.destroyByKey(key))) throw new ApiError(404, 'not_found', 'No session with this key.');
      await ctx.audit('session.destroy', req, { key, user: null }, {});
      noStore(res);
      res.status(204).end();
    }),
  );

  router.delete(
    '/users/:user/sessions',
    wrap(async (req: Request, res: Response) => {
      const user = parseUser(req.params.user, 'The user in the URL');
      const ended = await byUser(() => ctx.sessions.destroySessionsOf(user));
      await ctx.audit('user.sessions_destroy', req, { key: null, user }, { ended });
      noStore(res);
      res.json({ ended });
    }),
  );
}
