import type { Request } from 'express';

/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Where the request put its credentials, or why they are malformed. */
export type Extracted = { token: string } | { none: true } | { malformed: string };

/** Which places besides the Authorization header may carry the token (RFC 6750 §2.2, §2.3). */
export interface ExtractOptions {
  allowQueryToken?: boolean;
  allowBodyToken?: boolean;
}

/** Step 1 of bearerAuth: the bearer token of `req` (header; query and body only when allowed), exactly one. */
export function extract(req: Request, opts: ExtractOptions): Extracted {
  const found: string[] = [];
  const header = req.headers.authorization;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    const scheme = space === -1 ? header : header.slice(0, space);
    if (scheme.toLowerCase() === 'bearer') {
      const credentials = space === -1 ? '' : header.slice(space + 1).trim();
      if (!B64TOKEN.test(credentials)) return { malformed: 'The Authorization header must be: Bearer <token>.' };
      found.push(credentials);
    }
  }
  // Express 5 re-parses the query string on every req.query read: only look when it can be there.
  const query = req.url.includes('access_token') ? (req.query as Record<string, unknown> | undefined)?.access_token : undefined;
  if (query !== undefined) {
    if (!opts.allowQueryToken) return { malformed: 'Send the token in the Authorization header, not in the URL.' };
    if (typeof query !== 'string' || !B64TOKEN.test(query)) return { malformed: 'The access_token parameter is malformed.' };
    found.push(query);
  }
  const body = (req.body as Record<string, unknown> | undefined)?.access_token;
  if (body !== undefined && typeof req.body === 'object') {
    if (!opts.allowBodyToken) return { malformed: 'Send the token in the Authorization header, not in the body.' };
    if (typeof body !== 'string' || !B64TOKEN.test(body)) return { malformed: 'The access_token field is malformed.' };
    found.push(body);
  }
  if (found.length > 1) return { malformed: 'Send the token one way only (RFC 6750 section 2).' };
  return found.length ? { token: found[0] } : { none: true };
}
