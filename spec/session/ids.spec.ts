// Session ids: any non-empty string up to 4096 characters works on every provider (express-session's
// `genid` may return anything), and no id, however hostile, ever reaches a key, path or file name.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import session, { type SessionData } from 'express-session';
import request from 'supertest';
import { InvalidSessionIdError, type SecretsSessionStore } from '../../lib';
import { MAX_SESSION_ID_LENGTH, sidDigest } from '../../lib/session/key';
import { describeWith } from '../support/components';
import { expressVersions } from './app';
import { type Backend, fileBackend, memoryBackend, openbaoBackend } from './backends';

const sess = (ms: number, extra: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) }, ...extra }) as unknown as SessionData;

/** Ids express-session's own suite and real `genid`s produce, and ones a path would choke on. */
const ODD_IDS: string[] = [
  '%',
  '%2e%2e%2f',
  '/foo',
  'a/b/c',
  '..',
  '../../etc/passwd',
  '.',
  '\\..\\x',
  'x\u0000y',
  ' spaced id ',
  'é日本語🙂',
  '\u202eevil',
  'ab+/cd==',
  randomBytes(18).toString('base64'),
  `${'/'.repeat(10)}${randomBytes(9).toString('base64')}`,
  'x'.repeat(1024),
  'é'.repeat(1024),
  'y'.repeat(MAX_SESSION_ID_LENGTH),
];

const INVALID_IDS: unknown[] = ['', 'z'.repeat(MAX_SESSION_ID_LENGTH + 1), '\ud800lone', 'tail\udc00', 42, null, undefined, {}];

function idSuite(make: () => Backend | Promise<Backend>): void {
  let backend: Backend;
  let store: SecretsSessionStore;
  beforeAll(async () => {
    backend = await make();
    store = backend.create(backend.namespace()) as unknown as SecretsSessionStore;
  });
  afterAll(() => backend.teardown());

  test.each(ODD_IDS.map((id) => [JSON.stringify(id.length > 40 ? `${id.slice(0, 20)}…(${id.length})` : id), id]))(
    'id %s: set, get, touch, ids, destroy',
    async (_label, sid) => {
      await store.set(sid, sess(60_000, { who: sid }));
      expect(await store.get(sid)).toMatchObject({ who: sid });
      await store.touch(sid, sess(120_000, { who: 'ignored by touch' }));
      expect(await store.get(sid)).toMatchObject({ who: sid, cookie: { originalMaxAge: 120_000 } });
      expect(await store.ids()).toContain(sid);
      await store.destroy(sid);
      expect(await store.get(sid)).toBeNull();
    },
  );

  test('ids that differ only where a path would normalise them are different sessions', async () => {
    const twins = ['a/b', 'a//b', 'a/./b', 'a%2fb', 'A/B'];
    for (const sid of twins) await store.set(sid, sess(60_000, { who: sid }));
    for (const sid of twins) expect(await store.get(sid)).toMatchObject({ who: sid });
    for (const sid of twins) await store.destroy(sid);
  });

  test('empty, too long, lone-surrogate and non-string ids: set fails with INVALID_SESSION_ID (no id in the message); get/touch/destroy are a miss', async () => {
    for (const sid of INVALID_IDS) {
      const err = await store.set(sid as string, sess(60_000)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidSessionIdError);
      expect((err as InvalidSessionIdError).code).toBe('INVALID_SESSION_ID');
      if (typeof sid === 'string' && sid.length > 3) expect((err as Error).message).not.toContain(sid.slice(0, 8));
      await expect(store.get(sid as string)).resolves.toBeNull();
      await expect(store.touch(sid as string, sess(60_000))).resolves.toBeNull();
      await expect(store.destroy(sid as string)).resolves.toBeNull();
    }
    const viaCallback = await new Promise<unknown[]>((resolve) => {
      store.set('', sess(60_000), (...args: unknown[]) => resolve(args));
    });
    expect(viaCallback[0]).toBeInstanceOf(InvalidSessionIdError);
  });
}

describe('session ids on the memory provider', () => idSuite(memoryBackend));
describe('session ids on the file provider', () => idSuite(fileBackend));
describeWith('openbao', 'session ids on OpenBao KV v2', () => idSuite(openbaoBackend));

describe('hostile ids never reach a path', () => {
  test('file provider: every file is a digest of an id, inside the base folder; no id appears in any name', async () => {
    const backend = await fileBackend();
    try {
      const ns = backend.namespace();
      const store = backend.create(ns) as unknown as SecretsSessionStore;
      for (const sid of ODD_IDS) await store.set(sid, sess(60_000));
      const files = (await readdir(backend.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      const names = files.map((e) => relative(backend.dir, join(e.parentPath, e.name)));
      const expected = ODD_IDS.map((sid) => join(...ns.split('/'), `sess:${sidDigest(sid)}`));
      expect(names.map((n) => n.replace(/\.json$/, '')).sort()).toEqual(expected.sort());
      for (const name of names) expect(name.startsWith('..')).toBe(false);
    } finally {
      await backend.teardown();
    }
  });

  test('memory provider: the provider is only ever asked for <path>/sess:<43-char digest>', async () => {
    const backend = memoryBackend();
    const asked: string[] = [];
    const { provider } = backend;
    for (const method of ['get', 'put', 'delete'] as const) {
      const original = provider[method].bind(provider) as (path: string, ...rest: unknown[]) => Promise<unknown>;
      (provider as unknown as Record<string, unknown>)[method] = (path: string, ...rest: unknown[]) => {
        asked.push(path);
        return original(path, ...rest);
      };
    }
    try {
      const ns = backend.namespace();
      const store = backend.create(ns) as unknown as SecretsSessionStore;
      for (const sid of [...ODD_IDS, ...(INVALID_IDS as string[])]) {
        await store.set(sid, sess(60_000)).catch(() => undefined);
        await store.get(sid);
        await store.touch(sid, sess(90_000));
        await store.destroy(sid);
      }
      expect(asked.length).toBeGreaterThan(ODD_IDS.length * 3);
      const shape = new RegExp(`^${ns.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/sess:[A-Za-z0-9_-]{43}$`);
      for (const path of asked) expect(path).toMatch(shape);
    } finally {
      await backend.teardown();
    }
  });
});

describe.each(expressVersions)('express-session with genid returning base64 (%s)', (_name, express) => {
  test('every one of 200 sessions with ids like "k3/9+aB=" is saved and found again', async () => {
    const backend = memoryBackend();
    try {
      const store = backend.create(backend.namespace()) as unknown as SecretsSessionStore;
      const ids = new Set<string>();
      const agentApp = express();
      agentApp.use(session({ store, secret: 's', resave: false, saveUninitialized: false, genid: () => randomBytes(18).toString('base64') }));
      agentApp.post('/login', (req, res) => {
        req.session.user = 'u';
        res.json({ sid: req.sessionID });
      });
      agentApp.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
      let withSlash = 0;
      for (let i = 0; i < 200; i++) {
        const login = await request(agentApp).post('/login');
        const sid = login.body.sid as string;
        ids.add(sid);
        if (sid.includes('/') || sid.includes('+')) withSlash++;
        const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
        const me = await request(agentApp).get('/me').set('Cookie', cookie);
        expect(me.body).toEqual({ user: 'u' });
      }
      expect(withSlash).toBeGreaterThan(50);
      expect(await store.length()).toBe(200);
    } finally {
      await backend.teardown();
    }
  });
});
