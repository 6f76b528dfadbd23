// Hostile input, as fast-check properties against one real app (express 5 + express-session on
// SecretsSessionStore + bearerAuth + tokenAdminRouter, everything on the file provider), over real
// HTTP (a raw socket where the bytes are ones fetch refuses to send): Authorization headers,
// tokens one mutation away from real ones, session ids as cookies and as direct store calls,
// arbitrary secret paths, and admin API bodies and ids. Never a 500, never a token accepted that
// was not issued, never a file outside the base folder.
import { createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import express from 'express';
import session from 'express-session';
import fc from 'fast-check';
import {
  bearerAuth,
  createFileProvider,
  InvalidPathError,
  InvalidSessionIdError,
  type SecretProvider,
  SecretsSessionStore,
  tokenAdminRouter,
  TokenStore,
} from '../../lib';
import { isValidSessionId } from '../../lib/session/key';
import { isValidSegment } from '../../lib/providers/paths';
import { checksum, generateToken, parseToken } from '../../lib/tokens/format';
import { type Listening, listen, rawGet, recordingLogger, report, SESSION_SECRET } from './harness';
import { counting } from '../support/counting';
import { removeTempDir, tempDir } from '../support/temp-dir';

const ADMIN = '/api/v2/auth';

/** express-session's signed cookie value for `sid` (cookie-signature's scheme). */
const signed = (sid: string): string => `s:${sid}.${createHmac('sha256', SESSION_SECRET).update(sid).digest('base64').replace(/=+$/, '')}`;

const noNewlines = (s: string): string => s.replace(/[\r\n]/g, ' ');
const safeEncode = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'));
  }
};

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isDirectory()) files.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return files.sort();
}

/** Statuses seen per property, for the report. */
const seen: Record<string, Record<number, number>> = {};
const note = (property: string, status: number): void => {
  seen[property] ??= {};
  seen[property][status] = (seen[property][status] ?? 0) + 1;
};

describe('hostile input (fast-check, in-process app over loopback HTTP)', () => {
  let root: string;
  let base: string;
  let provider: SecretProvider & { calls: number };
  let store: SecretsSessionStore;
  let tokens: TokenStore;
  let server: Listening;
  const logger = recordingLogger();
  /** Tokens that must be accepted, and ones that must never be. */
  const valid = new Set<string>();
  const invalid = new Set<string>();
  let adminToken: string;
  let victimId: string;
  let ids: string[];
  let tmpBefore: string[];

  beforeAll(async () => {
    tmpBefore = await fs.readdir(tmpdir());
    root = await tempDir('esa-hostile-');
    base = join(root, 'base');
    provider = counting(createFileProvider({ basePath: base, fsync: false }));
    store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
    tokens = new TokenStore({ provider, bcryptCost: 4, logger });
    adminToken = (await tokens.create({ name: 'admin', scopes: ['admin'] })).token;
    const reader = await tokens.create({ name: 'reader', scopes: ['read'] });
    const rotated = await tokens.create({ name: 'rotated' });
    const newer = await tokens.rotate(rotated.record.id);
    const revoked = await tokens.create({ name: 'revoked' });
    await tokens.revoke(revoked.record.id);
    for (const t of [adminToken, reader.token, newer.token]) valid.add(t);
    for (const t of [rotated.token, revoked.token, generateToken('esa').token]) invalid.add(t);
    victimId = reader.record.id;
    ids = [parseToken(adminToken, 'esa')?.id as string, victimId, rotated.record.id, revoked.record.id];

    const app = express();
    app.use(session({ store, secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
    app.get('/me', (req, res) => {
      res.status(req.session.user ? 200 : 401).json({ user: req.session.user ?? null });
    });
    app.get('/api/data', bearerAuth({ tokens, rateLimit: false, logger }), (req, res) => {
      res.json({ who: req.auth?.name });
    });
    app.use(ADMIN, tokenAdminRouter({ tokens, logger }));
    server = await listen(app);
  });

  afterAll(async () => {
    report('hostile-statuses', seen);
    await server?.close();
    await store?.close();
    await tokens?.close();
    await removeTempDir(root);
  });

  test('Authorization header values: never a 500, only issued tokens accepted, and only as "Bearer <token>"', async () => {
    const tokenPiece = fc.constantFrom(...valid, ...invalid);
    const piece = fc.oneof(
      fc.constantFrom(
        'Bearer',
        'bearer',
        'BEARER',
        'Bearer ',
        'Basic ',
        'Digest ',
        'Token ',
        'Bearer Bearer ',
        'Negotiate',
        'Bearer,',
        ' ',
        '\t',
        '=',
        '==',
        ',',
        '"',
        "'",
        '_',
        'esa_',
        'é',
        '\u0000',
        '\u00ff',
        '😀',
        '\u202e',
        '%20',
        '\\',
        'access_token=',
      ),
      tokenPiece,
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.nat(40).map((n) => ' '.repeat(n)),
    );
    const header = fc.oneof(
      { weight: 6, arbitrary: fc.array(piece, { maxLength: 6 }).map((a) => a.join('')) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer\t', 'Bearer Bearer ', 'Basic '),
            tokenPiece,
            fc.constantFrom('', ' ', 'x', `, Bearer ${adminToken}`, ' Bearer'),
          )
          .map((p) => p.join('')),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => `Bearer ${'a'.repeat(n)}`) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3_000 }), tokenPiece).map(([n, t]) => `Bearer${' '.repeat(n)}${t}`) },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(header.map(noNewlines), async (value) => {
        const status = await rawGet(server.port, '/api/data', [`Authorization: ${value}`]);
        note('authorization', status);
        expect([200, 400, 401, 403, 431]).toContain(status);
        if (status === 200) {
          accepted++;
          const trimmed = value.trim();
          const ok = [...valid].some(
            (t) => /^bearer$/i.test(trimmed.slice(0, 6)) && trimmed.endsWith(t) && trimmed.slice(6, -t.length).trim() === '' && /^[ \t]/.test(trimmed.slice(6)),
          );
          expect(ok).toBe(true);
        }
      }),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach valid tokens
  }, 60_000);

  test('tokens one to three mutations away from real ones are never accepted; a bad checksum never reaches the backend', async () => {
    const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const mutation = fc.record({
      kind: fc.constantFrom('replace', 'delete', 'insert', 'truncate', 'append', 'case'),
      pos: fc.nat(),
      text: fc.oneof(fc.constantFrom(...ALPHA.split(''), '_', ' ', '\u0000', 'é', '-', '+', '/', '='), fc.string({ minLength: 1, maxLength: 3 })),
    });
    const apply = (token: string, m: { kind: string; pos: number; text: string }): string => {
      const i = m.pos % (token.length + 1);
      switch (m.kind) {
        case 'replace':
          return token.slice(0, i) + m.text + token.slice(i + 1);
        case 'delete':
          return token.slice(0, i) + token.slice(i + 1);
        case 'insert':
          return token.slice(0, i) + m.text + token.slice(i);
        case 'truncate':
          return token.slice(0, i);
        case 'append':
          return token + m.text;
        default: {
          const c = token[i] ?? '';
          return token.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + token.slice(i + 1);
        }
      }
    };
    const candidate = fc
      .record({
        token: fc.constantFrom(...valid, ...invalid),
        mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
        swapId: fc.option(fc.nat(), { nil: undefined }),
        fixChecksum: fc.boolean(),
      })
      .map(({ token, mutations, swapId, fixChecksum }) => {
        let t = token;
        if (swapId !== undefined) t = `esa_${ids[swapId % ids.length]}${t.slice(16)}`;
        for (const m of mutations) t = apply(t, m);
        if (fixChecksum && t.length > 6) t = t.slice(0, -6) + checksum(t.slice(0, -6));
        return t;
      });
    let backendReads = 0;
    let wellFormed = 0;
    await fc.assert(
      fc.asyncProperty(candidate, async (t) => {
        if (valid.has(t)) return; // a mutation that undid itself
        // HTTP strips whitespace around a header value (RFC 9110 OWS), and RFC 6750 allows more than
        // one space after "Bearer" (1*SP): "Bearer  <real token> " is the real token on the wire, so
        // only the direct verify() below applies to such a string.
        const onTheWire = noNewlines(t).replace(/^[ \t]+|[ \t]+$/g, '');
        const before = provider.calls;
        expect(await tokens.verify(t)).toBeNull();
        const calls = provider.calls - before;
        if (parseToken(t, 'esa') === null) expect(calls).toBe(0);
        else wellFormed++;
        backendReads += calls;
        const status = await rawGet(server.port, '/api/data', [`Authorization: Bearer ${noNewlines(t)}`]);
        note('mutated-token', status);
        if (valid.has(onTheWire)) expect(status).toBe(200);
        else expect([400, 401]).toContain(status);
      }),
      { numRuns: 5_000 },
    );
    report('mutated-tokens', { wellFormedWrongTokens: wellFormed, backendReads });
    expect(wellFormed).toBeGreaterThan(100); // the checksum-fixing branch reaches bcrypt
  }, 60_000);

  const hostileSegment = fc.oneof(
    fc.constantFrom(
      '..',
      '../',
      '../../etc/passwd',
      '..%2f..%2f',
      '%2e%2e',
      '%2e%2e%2f',
      '.',
      '/',
      '//',
      'a/../b',
      '\u0000',
      'a\u0000b',
      '\\..\\x',
      'C:\\x',
      '~',
      '~/x',
      ' ',
      '.'.repeat(300),
      'a'.repeat(201),
      'a'.repeat(195),
      'x'.repeat(10_240),
      'sess:',
      'ok-id',
    ),
    fc.string({ maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc
      .array(fc.constantFrom('..', '.', '/', '%2e', '%2f', '%00', '\u0000', '\\', 'a', 'B7', ':', '@', '=', '+', '-', '_', 'é', '\u202e'), { maxLength: 12 })
      .map((a) => a.join('')),
    fc.tuple(fc.constantFrom('../', '%2e%2e/', 'a'), fc.nat(10_240)).map(([p, n]) => p + 'x'.repeat(n)),
  );

  test('session ids as direct store calls: an invalid id (empty, > 4096 chars, lone surrogate) is refused (set) or a miss (get/touch/destroy), any other one works and stays inside the base folder', async () => {
    let written = 0;
    await fc.assert(
      fc.asyncProperty(hostileSegment, async (sid) => {
        const sess = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, tag: sid } as unknown as session.SessionData;
        const expectValid = isValidSessionId(sid);
        const ok = await store.set(sid, sess).then(
          () => true,
          (err: unknown) => {
            expect(err).toBeInstanceOf(InvalidSessionIdError);
            return false;
          },
        );
        expect(ok).toBe(expectValid);
        if (ok) written++;
        const got = (await store.get(sid)) as { tag?: string } | null;
        expect(got?.tag ?? null).toBe(ok ? sid : null);
        await store.touch(sid, sess);
        await store.destroy(sid);
        expect(await store.get(sid)).toBeNull();
      }),
      { numRuns: 3_000 },
    );
    report('session-ids-direct', { runs: 3_000, validIdsWritten: written });
  }, 60_000);

  test('session ids as cookies (signed and unsigned): never a 500, never a session', async () => {
    await fc.assert(
      fc.asyncProperty(hostileSegment, fc.boolean(), fc.boolean(), async (sid, sign, encode) => {
        const value = sign ? signed(sid) : sid;
        const cookie = noNewlines(encode ? safeEncode(value) : value);
        const status = await rawGet(server.port, '/me', [`Cookie: connect.sid=${cookie}`]);
        note('session-cookie', status);
        expect([400, 401, 431]).toContain(status);
      }),
      { numRuns: 3_000 },
    );
  }, 60_000);

  test('arbitrary secret paths on the file provider: InvalidPathError before any I/O, or a file inside the base folder', async () => {
    const path = fc.oneof(
      hostileSegment,
      fc.array(hostileSegment, { minLength: 1, maxLength: 4 }).map((a) => a.join('/')),
      fc.array(fc.constantFrom('a', 'b', '..', '.', '', 'c:d'), { minLength: 1, maxLength: 5 }).map((a) => a.join('/')),
    );
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        const target = `fuzz/${p}`;
        const refused = (err: unknown) => {
          expect(err).toBeInstanceOf(InvalidPathError);
          return 'refused';
        };
        const put = await provider.put(target, { v: 1 }).then(() => 'ok', refused);
        const got = await provider.get(target).then((e) => (e ? 'found' : 'absent'), refused);
        expect(got).toBe(put === 'ok' ? 'found' : 'refused');
        await provider.list(target).then(() => 'ok', refused);
        await provider.delete(target).then(() => 'ok', refused);
      }),
      { numRuns: 2_000 },
    );
  }, 60_000);

  test('admin API bodies (wrong types, extra fields, huge strings, deep nesting, not JSON): 4xx, never a 500', async () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const field = fc.oneof(
      anyJson,
      fc.string({ maxLength: 200 }),
      fc.constantFrom('30d', '1h', '0', '-1', '1e309', 'NaN', 'Infinity', '9999999999999999999d', '', ' ', 'admin', 'a/b', '../x'),
      fc.integer(),
      fc.double(),
      fc.array(fc.string(), { maxLength: 60 }),
    );
    const json = fc.oneof(
      fc.record({ name: field, description: field, scopes: field, expires_in: field, delivery_path: field }, { requiredKeys: [] }),
      fc.record(
        {
          name: fc.string({ minLength: 1, maxLength: 120 }),
          scopes: fc.array(fc.constantFrom('read', 'write', 'admin', 'a b', '"', ''), { maxLength: 5 }),
          expires_in: fc.oneof(fc.integer({ min: -10, max: 10 ** 9 }), fc.constantFrom('30d', '1m', '90s', 'soon')),
        },
        { requiredKeys: ['name'] },
      ),
      fc.dictionary(fc.string({ maxLength: 20 }), anyJson, { maxKeys: 8 }),
      anyJson,
    );
    const body = fc.oneof(
      { weight: 6, arbitrary: json.map((v) => JSON.stringify(v) ?? 'null') },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 12_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((d) => '{"name":'.repeat(d) + '"x"' + '}'.repeat(d)) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 40_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n) })) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '{"__proto__":{"admin":true},"name":"p"}',
          '{"constructor":{"prototype":{}},"name":"c"}',
          '{"name":"a","name":"b"}',
          'null',
          '[]',
          '""',
          '1e400',
          '{"name":"\\ud800"}',
          '',
        ),
      },
    );
    const contentType = fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
      },
    );
    let created = 0;
    await fc.assert(
      fc.asyncProperty(body, contentType, async (text, type) => {
        const res = await fetch(`${server.url}${ADMIN}/tokens`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': type },
          body: text,
        });
        const answer = (await res.json()) as { error?: { code: string }; token?: string };
        note('admin-create', res.status);
        expect([201, 400, 413, 415]).toContain(res.status);
        if (res.status === 201) {
          created++;
          expect(typeof answer.token).toBe('string');
        } else {
          expect(typeof answer.error?.code).toBe('string');
        }
      }),
      { numRuns: 3_000 },
    );
    report('admin-bodies', { runs: 3_000, created });
  }, 90_000);

  test('admin API ids in the URL (hostile segments, percent-encoded) and rotate bodies: 4xx, never a 500', async () => {
    const id = fc.oneof(
      fc.constant(victimId),
      hostileSegment.map(safeEncode),
      fc.constantFrom('%00', '%2e%2e', '%2F', '..', '%25', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'),
      fc.string({ maxLength: 30 }).map(safeEncode),
    );
    const rotateBody = fc.oneof(
      fc.record({ grace: fc.jsonValue({ maxDepth: 2 }), expires_in: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.record({ grace: fc.constantFrom(0, 60, '1h', '8d', -5, '1e309'), extra: fc.string() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 100 }),
    );
    const route = fc.constantFrom('get', 'delete', 'rotate');
    await fc.assert(
      fc.asyncProperty(id, route, rotateBody, async (raw, which, text) => {
        const decodedAdmin = ids[0];
        if (which === 'delete' && (raw === victimId || raw.includes(decodedAdmin))) return;
        const url = `${server.url}${ADMIN}/tokens/${raw}${which === 'rotate' ? '/rotate' : ''}`;
        const init: RequestInit =
          which === 'rotate'
            ? { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: text }
            : { method: which === 'get' ? 'GET' : 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } };
        const res = await fetch(url, init);
        await res.arrayBuffer();
        note(`admin-${which}`, res.status);
        expect([200, 201, 204, 400, 404, 409]).toContain(res.status);
      }),
      { numRuns: 2_000 },
    );
  }, 60_000);

  test('afterwards: nothing outside the base folder, only well-formed files inside it', async () => {
    expect(await fs.readdir(root)).toEqual(['base']);
    const files = await walk(base);
    for (const f of files) {
      expect(f.endsWith('.json')).toBe(true);
      for (const segment of f.slice(0, -'.json'.length).split('/')) expect(isValidSegment(segment)).toBe(true);
    }
    const fresh = (await fs.readdir(tmpdir())).filter((f) => !tmpBefore.includes(f) && /sess:|\.json$|passwd/.test(f));
    expect(fresh).toEqual([]);
    report('hostile-files', { filesInBase: files.length, outsideBase: 0 });
  });

  test('rotate of an id that is a valid path segment but not a token id ("+", "abc", a config-style name) answers 4xx, not 500', async () => {
    const statuses: Record<string, number> = {};
    for (const id of ['+', 'abc', 'not-a-token', 'A'.repeat(13), 'AAAAAAAAAAA_']) {
      const res = await fetch(`${server.url}${ADMIN}/tokens/${encodeURIComponent(id)}/rotate`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      await res.arrayBuffer();
      statuses[id] = res.status;
    }
    const direct = await tokens.rotate('abc').then(
      () => 'rotated',
      (err: Error) => `${err.name}${'code' in err ? ` ${String(err.code)}` : ''}`,
    );
    report('admin-rotate-non-token-ids', { statuses, directRotateOfAbc: direct });
    expect(Object.values(statuses).filter((s) => s < 400 || s >= 500)).toEqual([]);
    expect(direct).toBe('TokenError TOKEN_NOT_FOUND');
  });

  test('admin API ids with malformed percent-escapes (%, %zz, overlong UTF-8) answer 400, not 500', async () => {
    const statuses: Record<string, number> = {};
    for (const raw of ['%', '%zz', '%E0%A4%A', '%C0%AE%C0%AE', 'a%2', '%%']) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['DELETE', ''],
        ['POST', '/rotate'],
      ]) {
        const res = await fetch(`${server.url}${ADMIN}/tokens/${raw}${suffix}`, {
          method,
          headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
          body: method === 'POST' ? '{}' : undefined,
        });
        await res.arrayBuffer();
        statuses[`${method} ${raw}${suffix}`] = res.status;
      }
    }
    report('admin-bad-escapes', statuses);
    expect(Object.values(statuses).filter((s) => s !== 400)).toEqual([]);
  });

  test('no request was logged as an unexpected error (every failure above was an expected 4xx)', () => {
    expect(logger.messages.filter((m) => m.includes('unexpected'))).toEqual([]);
  });
});
