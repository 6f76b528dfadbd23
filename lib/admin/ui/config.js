// What the server told the page (attributes of <html>): mount path, sign-in mode, links.
const data = document.documentElement.dataset;

export const config = Object.freeze({
  base: data.base || '',
  /** "token": the router's own bearer guard; "guard": the app's guard (e.g. its session). */
  mode: data.mode === 'guard' ? 'guard' : 'token',
  tokenSignIn: data.tokenSignIn === 'true',
  signInUrl: data.signInUrl || '',
  appUrl: data.appUrl || '',
  /** The router has the session routes (its `sessions` option). */
  sessions: data.sessions === 'true',
});
