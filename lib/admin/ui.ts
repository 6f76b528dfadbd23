import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Request, Response, Router } from 'express';

/** Content-Security-Policy of the management page and its assets: nothing inline, nothing external. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** How the page signs in and where it links to (see `TokenAdminRouterOptions`). */
export interface UiSettings {
  /** "token": the default bearer guard; "guard": the app's own guard (e.g. its session). */
  mode: 'token' | 'guard';
  /** Offer a field to paste an admin token. */
  tokenSignIn: boolean;
  /** The app's sign-in page, linked when signed out; "" for none. */
  signInUrl: string;
  /** The app, linked when signed in; "" for none. */
  appUrl: string;
  /** The router has the session routes: the page shows its Sessions view. */
  sessions: boolean;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

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
 * Serves the management page at `GET /ui` and its assets (scripts, modules, styles, icon) at
 * `GET /ui/<file>`, read once from `ui/` next to this file. The page is not guarded: it holds no
 * data and signs in through the API, with a pasted admin token or the app's own session.
 */
export function addUiRoutes(router: Router, settings: UiSettings): void {
  const dir = join(__dirname, 'ui');
  const index = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = new Map(
    readdirSync(dir)
      .filter((name) => TYPES[extname(name)] !== undefined)
      .map((name) => [name, { body: readFileSync(join(dir, name)), type: TYPES[extname(name)] }]),
  );
  const fixed: Record<string, string> = {
    '%MODE%': settings.mode,
    '%TOKEN_SIGN_IN%': String(settings.tokenSignIn),
    '%SIGN_IN_URL%': escapeHtml(settings.signInUrl),
    '%APP_URL%': escapeHtml(settings.appUrl),
    '%SESSIONS%': String(settings.sessions),
  };

  router.get('/ui', (req: Request, res: Response) => {
    uiHeaders(res, 'text/html; charset=utf-8');
    // One pass with a replacer function: nothing inserted is read again, and `$&`-style patterns in
    // the mount path or a URL stay as they are.
    const values: Record<string, string> = { ...fixed, '%BASE%': escapeHtml(req.baseUrl) };
    res.status(200).send(index.replace(/%(BASE|MODE|TOKEN_SIGN_IN|SIGN_IN_URL|APP_URL|SESSIONS)%/g, (m) => values[m]));
  });
  router.get('/ui/:file', (req: Request, res: Response, next) => {
    const file = files.get(String(req.params.file));
    if (!file) return next();
    uiHeaders(res, file.type);
    res.status(200).send(file.body);
  });
}
