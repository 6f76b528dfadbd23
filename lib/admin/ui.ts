import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response, Router } from 'express';

/** Content-Security-Policy of the management page and its assets: nothing inline, nothing external. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function uiHeaders(res: Response, type: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Security-Policy', UI_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
}

/**
 * Serves the management page at `GET /ui` and its assets at `GET /ui/<file>`, read once from
 * `ui/` next to this file. The page is not guarded: it holds no data and signs in through the API,
 * with a pasted admin token (`mode` "token") or the app's own session (`mode` "guard").
 */
export function addUiRoutes(router: Router, mode: 'token' | 'guard'): void {
  const dir = join(__dirname, 'ui');
  const index = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(dir, name))]));

  router.get('/ui', (req: Request, res: Response) => {
    uiHeaders(res, 'text/html; charset=utf-8');
    // Replacer functions: a string replacement would expand `$&`, `` $` ``, `$'` found in the mount path.
    const base = escapeHtml(req.baseUrl);
    res.status(200).send(index.replaceAll('%BASE%', () => base).replace('%MODE%', () => mode));
  });
  router.get('/ui/:file', (req: Request, res: Response, next) => {
    const body = files.get(String(req.params.file));
    if (!body) return next();
    uiHeaders(res, ASSETS[String(req.params.file)]);
    res.status(200).send(body);
  });
}
