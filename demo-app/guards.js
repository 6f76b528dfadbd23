// The demo's protections around its HTML forms: a login rate limit, CSRF checks on every form POST
// (a signed double-submit token plus an Origin check), and plain error pages that never show a
// stack trace, a file path or an error's own message.
const { createHmac, randomBytes, timingSafeEqual } = require('node:crypto');
const { rateLimit } = require('express-rate-limit');

const CSRF_COOKIE = 'demo.csrf';

/** Failed logins per client IP and minute before the login answers 429 (successful ones do not count). */
const LOGIN_FAILURES_PER_MINUTE = 10;

function cookieValue(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * CSRF protection for the demo's forms. `token(req, res)` gives the value for a form's hidden
 * `_csrf` field (setting the random `demo.csrf` cookie when needed); `check` refuses a POST whose
 * field is not HMAC(secret, cookie), or whose Origin (or Sec-Fetch-Site) says another site sent it.
 */
function csrfProtection(secret, { secure }) {
  const sign = (nonce) => createHmac('sha256', secret).update(`csrf:${nonce}`).digest('base64url');
  const token = (req, res) => {
    let nonce = cookieValue(req, CSRF_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{32,64}$/.test(nonce)) {
      nonce = randomBytes(24).toString('base64url');
      res.cookie(CSRF_COOKIE, nonce, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
    }
    return sign(nonce);
  };
  const sameOrigin = (req) => {
    const origin = req.get('origin');
    if (origin) return origin === `${req.protocol}://${req.get('host')}`;
    const site = req.get('sec-fetch-site');
    return site === undefined || site === 'same-origin' || site === 'none';
  };
  const check = (req, res, next) => {
    const nonce = cookieValue(req, CSRF_COOKIE);
    const sent = typeof req.body?._csrf === 'string' ? Buffer.from(req.body._csrf) : Buffer.alloc(0);
    const expected = nonce ? Buffer.from(sign(nonce)) : Buffer.alloc(0);
    const tokenOk = expected.length > 0 && sent.length === expected.length && timingSafeEqual(sent, expected);
    if (tokenOk && sameOrigin(req)) return next();
    return res.status(403).type('text').send('This form was not sent by this page (or it is too old). Reload the page and try again.');
  };
  return { token, check };
}

/** At most LOGIN_FAILURES_PER_MINUTE failed logins per IP and minute; bcrypt work stays bounded. */
function loginRateLimit() {
  return rateLimit({
    windowMs: 60_000,
    limit: LOGIN_FAILURES_PER_MINUTE,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => res.status(429).type('text').send('Too many failed sign-ins. Wait a minute and try again.'),
  });
}

const MESSAGES = {
  400: 'Bad request.',
  403: 'Forbidden.',
  404: 'Not found.',
  413: 'Request body too large.',
  415: 'Unsupported request body (content type or charset).',
};

/** The last handlers: a short 404, and a short text for every error (a one-line log for 5xx). */
function errorPages() {
  const notFound = (_req, res) => res.status(404).type('text').send(MESSAGES[404]);
  // Express error handlers are recognised by their four parameters.
  const onError = (err, req, res, _next) => {
    const given = Number(err?.status ?? err?.statusCode);
    const status = given >= 400 && given < 600 ? given : 500;
    if (status >= 500) console.error(`demo: ${req.method} ${req.path} failed: ${err?.code ?? err?.name ?? 'error'}`);
    if (res.headersSent) return res.end();
    res
      .status(status)
      .type('text')
      .send(MESSAGES[status] ?? (status >= 500 ? 'Something went wrong on the server.' : 'Request refused.'));
  };
  return { notFound, onError };
}

module.exports = { CSRF_COOKIE, LOGIN_FAILURES_PER_MINUTE, csrfProtection, errorPages, loginRateLimit };
