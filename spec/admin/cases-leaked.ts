// POST /tokens/leaked (option leakedTokenEndpoint): anonymous leak reports, answered 202 at once
// whatever they hold, checked in the background one at a time; every token that verifies is revoked.
import request from 'supertest';
import { ConfigError, type SecretProvider, tokenAdminRouter } from '../../lib';
import { MAX_QUEUED_LEAKED } from '../../lib/admin/leaked-queue';
import { LEAKED_REPORTS_PER_MINUTE } from '../../lib/admin/leaked-route';
import { generateToken } from '../../lib/tokens/format';
import { type AdminApp, CONFIG_TOKEN, makeAdminApp, tokenEvents } from './helpers';

/** A provider for one app, with the token folder to use in it, and how to dispose of it. */
export interface LeakedBackend {
  provider: SecretProvider;
  tokenPath: string;
  close(): Promise<void>;
}

/**
 * Holds the provider's reads until `release()`, records their paths, and the most reads of paths
 * matching `counted` ever in flight at once (a live token's background last_used_at write reads
 * its record beside the checks: leave it out).
 */
function gateReads(
  provider: SecretProvider,
  counted: (path: string) => boolean = () => true,
): { release(): void; maxInFlight(): number; reads(): number; paths: string[] } {
  const original = provider.get.bind(provider);
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let inFlight = 0;
  let most = 0;
  const paths: string[] = [];
  provider.get = async (path: string) => {
    paths.push(path);
    const counts = counted(path);
    if (counts) most = Math.max(most, ++inFlight);
    try {
      await gate;
      return await original(path);
    } finally {
      if (counts) inFlight--;
    }
  };
  return { release: () => open(), maxInFlight: () => most, reads: () => paths.length, paths };
}

export function leakedCases(label: string, open: () => Promise<LeakedBackend>): void {
  describe(`POST /tokens/leaked on ${label}`, () => {
    let backend: LeakedBackend;
    let t: AdminApp;
    const report = (tokens: unknown, from?: string) => {
      const req = request(t.app).post(`${t.base}/tokens/leaked`).set('Content-Type', 'application/json');
      if (from) req.set('X-Forwarded-For', from);
      return req.send(JSON.stringify({ tokens }));
    };
    const everything = () => JSON.stringify(t.audit) + t.logs.join('\n');

    beforeEach(async () => {
      backend = await open();
      t = await makeAdminApp({ provider: backend.provider, store: { path: backend.tokenPath }, router: { leakedTokenEndpoint: true } });
    });
    afterEach(async () => {
      await t.router.leakedIdle();
      await t.router.close();
      await t.store.close();
      await backend.close();
    });

    test('every reported token that verifies is revoked; unknown and malformed ones change nothing; audited by id, never by secret', async () => {
      const leaked = [await t.store.create({ name: 'ci' }), await t.store.create({ name: 'deploy', scopes: ['write'] })];
      const kept = await t.store.create({ name: 'kept' });
      const unknown = generateToken('esa').token;
      const tokens = [leaked[0].token, 'not a token at all', unknown, leaked[1].token, leaked[0].token];
      const res = await report(tokens);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ received: 5 });
      expect(res.headers['cache-control']).toBe('no-store');
      await t.router.leakedIdle();
      for (const l of leaked) expect(await t.store.verify(l.token)).toBeNull();
      expect(await t.store.verify(kept.token)).toMatchObject({ tokenId: kept.record.id });
      expect(await t.store.verify(t.adminToken)).not.toBeNull();
      expect((await t.store.list()).map((i) => i.id).sort()).toEqual([kept.record.id, CONFIG_TOKEN.name, (await t.store.verify(t.adminToken))?.tokenId].sort());
      const events = tokenEvents(t.audit);
      expect(events.map((e) => [e.action, e.token.id, e.actor, e.details])).toEqual([
        ['token.leaked', leaked[0].record.id, null, { revoked: true, source: 'store' }],
        ['token.leaked', leaked[1].record.id, null, { revoked: true, source: 'store' }],
      ]);
      expect(events[1].token).toEqual({ id: leaked[1].record.id, name: 'deploy', scopes: ['write'] });
      expect(events[0].ip).toMatch(/127\.0\.0\.1|::1/);
      expect(t.logs).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^info express-secrets-auth audit: token\\.leaked token=${leaked[0].record.id} name="ci" by=leak-report ip=\\S+ at=\\S+ revoked=true source="store"$`,
          ),
        ),
      );
      for (const token of [...tokens, kept.token]) expect(everything()).not.toContain(token);
    });

    test('the same 202 answer for a live token, an unknown one and a malformed one, sent before any is checked', async () => {
      const live = await t.store.create({ name: 'live' });
      const gate = gateReads(t.provider);
      const answers = [];
      for (const tokens of [[live.token], [generateToken('esa').token], ['esa_garbage'], [live.token, 'x']]) {
        const res = await report(tokens);
        answers.push({ status: res.status, body: res.body, type: res.headers['content-type'], cache: res.headers['cache-control'] });
      }
      // Nothing was read yet: the answers cannot depend on what the tokens are.
      expect(gate.reads()).toBeLessThanOrEqual(1);
      const same = { status: 202, type: 'application/json; charset=utf-8', cache: 'no-store' };
      expect(answers).toEqual([
        { ...same, body: { received: 1 } },
        { ...same, body: { received: 1 } },
        { ...same, body: { received: 1 } },
        { ...same, body: { received: 2 } },
      ]);
      gate.release();
      await t.router.leakedIdle();
      expect(await t.store.verify(live.token)).toBeNull();
      // Reported twice while waiting: checked and audited once.
      expect(tokenEvents(t.audit).map((e) => e.token.id)).toEqual([live.record.id]);
    });

    test('a config token verifies but cannot be revoked: audited with revoked=false and a warning to remove it from the config', async () => {
      expect((await report([CONFIG_TOKEN.credential])).status).toBe(202);
      await t.router.leakedIdle();
      expect(await t.store.verify(CONFIG_TOKEN.credential)).toMatchObject({ source: 'config' });
      expect(tokenEvents(t.audit).map((e) => [e.action, e.token.id, e.details])).toEqual([
        ['token.leaked', CONFIG_TOKEN.name, { revoked: false, source: 'config' }],
      ]);
      expect(t.logs).toContainEqual(expect.stringMatching(/^warn .*config token "deploy-bot" was reported leaked .*must remove it from the configuration/));
      expect(everything()).not.toContain(CONFIG_TOKEN.credential);
    });

    test.each([
      ['an empty object', {}],
      ['tokens not a list', { tokens: 'esa_x' }],
      ['an empty list', { tokens: [] }],
      ['101 tokens', { tokens: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
      ['a number in the list', { tokens: ['ok', 5] }],
      ['an empty string', { tokens: [''] }],
      ['a string of 201 characters', { tokens: ['x'.repeat(201)] }],
      ['another field', { tokens: ['x'], url: 'https://example.com' }],
      ['a list as the body', ['x']],
    ])('400 invalid_request for %s, nothing checked', async (_what, body) => {
      const gate = gateReads(t.provider);
      const res = await request(t.app).post(`${t.base}/tokens/leaked`).set('Content-Type', 'application/json').send(JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      gate.release();
      await t.router.leakedIdle();
      expect(gate.reads()).toBe(0);
    });

    test('100 tokens of 200 characters are accepted; invalid JSON is a 400 invalid_json; a body that is not JSON is a 415', async () => {
      const full = await report(Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(200, 'x')));
      expect(full.status).toBe(202);
      expect(full.body).toEqual({ received: 100 });
      const broken = await request(t.app).post(`${t.base}/tokens/leaked`).set('Content-Type', 'application/json').send('{"tokens": [');
      expect(broken.status).toBe(400);
      expect(broken.body.error.code).toBe('invalid_json');
      const text = await request(t.app).post(`${t.base}/tokens/leaked`).set('Content-Type', 'text/plain').send('esa_abc');
      expect(text.status).toBe(415);
      expect(text.body.error.code).toBe('unsupported_media_type');
    });

    test(`${LEAKED_REPORTS_PER_MINUTE} reports per minute per client, then 429 rate_limited with Retry-After; other clients are not affected`, async () => {
      t.app.set('trust proxy', 'loopback');
      for (let i = 0; i < LEAKED_REPORTS_PER_MINUTE; i++) expect((await report(['a'], '203.0.113.7')).status).toBe(202);
      const refused = await report(['a'], '203.0.113.7');
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('per minute') } });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((await report(['a'], '198.51.100.9')).status).toBe(202);
      // Counted before the body is read: a refused client's bad bodies are refused as well.
      const bad = await request(t.app).post(`${t.base}/tokens/leaked`).set('X-Forwarded-For', '203.0.113.7').set('Content-Type', 'text/plain').send('x');
      expect(bad.status).toBe(429);
    });

    test('X-Forwarded-For without "trust proxy": the rate limit reports it in the router\'s log, by code', async () => {
      expect((await report(['a'], '203.0.113.7')).status).toBe(202);
      expect(t.logs).toContainEqual(
        expect.stringMatching(/^error express-secrets-auth admin: leak-report rate limit: .*ERR_ERL_UNEXPECTED_X_FORWARDED_FOR.*trust proxy/),
      );
    });

    test('the route is outside the guard, whatever guard the app passes; every other route stays guarded', async () => {
      const refuseAll = await makeAdminApp({
        provider: backend.provider,
        store: { path: backend.tokenPath },
        router: { leakedTokenEndpoint: true, guard: (_req, res) => void res.status(401).json({ error: { code: 'login_required', message: 'Sign in.' } }) },
      });
      try {
        const { token } = await refuseAll.store.create({ name: 'ci' });
        const res = await request(refuseAll.app)
          .post(`${refuseAll.base}/tokens/leaked`)
          .set('Content-Type', 'application/json')
          .send({ tokens: [token] });
        expect(res.status).toBe(202);
        await refuseAll.router.leakedIdle();
        expect(await refuseAll.store.verify(token)).toBeNull();
        for (const res of [
          await request(refuseAll.app).get(`${refuseAll.base}/tokens`),
          await request(refuseAll.app).get(`${refuseAll.base}/tokens/leaked`),
          await request(refuseAll.app).delete(`${refuseAll.base}/tokens/leaked`),
        ])
          expect(res.status).toBe(401);
        expect((await request(t.app).get(`${t.base}/tokens/leaked`)).status).toBe(401);
      } finally {
        await refuseAll.router.close();
        await refuseAll.store.close();
      }
    });

    test(`at most ${MAX_QUEUED_LEAKED} tokens wait; more are dropped with a warning; checks run one at a time`, async () => {
      t.app.set('trust proxy', 'loopback');
      const live = await t.store.create({ name: 'live' });
      const gate = gateReads(t.provider, (path) => !path.endsWith(`/${live.record.id}`));
      const batches = Array.from({ length: 11 }, () => Array.from({ length: 100 }, () => generateToken('esa')));
      batches[0][0] = { token: live.token, id: live.record.id };
      for (const [i, batch] of batches.entries()) {
        const res = await report(
          batch.map((b) => b.token),
          `203.0.113.${i + 1}`,
        );
        expect(res.status).toBe(202);
        expect(res.body).toEqual({ received: 100 });
      }
      expect(t.logs.filter((l) => l.startsWith('warn'))).toEqual([
        expect.stringMatching(new RegExp(`^warn .*: 100 reported token\\(s\\) dropped, ${MAX_QUEUED_LEAKED} already wait to be checked`)),
      ]);
      gate.release();
      await t.router.leakedIdle();
      expect(gate.maxInFlight()).toBe(1);
      // The first 1000 were checked (their records read); the 100 dropped ones never were.
      const read = new Set(gate.paths.map((p) => p.split('/').pop()));
      for (const batch of batches.slice(0, 10)) for (const b of batch) expect(read.has(b.id)).toBe(true);
      for (const b of batches[10]) expect(read.has(b.id)).toBe(false);
      expect(await t.store.verify(live.token)).toBeNull();
      expect(tokenEvents(t.audit).map((e) => e.token.id)).toEqual([live.record.id]);
      for (const b of [batches[0][1], batches[10][0]]) expect(everything()).not.toContain(b.token);
    }, 60_000);

    test('close() drops the tokens still waiting (with a warning) and later reports; the one being checked finishes', async () => {
      const first = await t.store.create({ name: 'first' });
      const waiting = await t.store.create({ name: 'waiting' });
      const gate = gateReads(t.provider);
      expect((await report([first.token, waiting.token, generateToken('esa').token])).status).toBe(202);
      const closed = t.router.close();
      expect(t.logs).toContainEqual(expect.stringMatching(/^warn .*: 2 reported token\(s\) not checked, the admin router was closed before their turn$/));
      const late = await report([waiting.token]);
      expect(late.status).toBe(202);
      expect(late.body).toEqual({ received: 1 });
      expect(t.logs).toContainEqual(expect.stringMatching(/^warn .*: 1 reported token\(s\) not checked, the admin router is closed$/));
      gate.release();
      await closed;
      await t.router.leakedIdle();
      expect(await t.store.verify(first.token)).toBeNull();
      expect(await t.store.verify(waiting.token)).toMatchObject({ tokenId: waiting.record.id });
      expect(tokenEvents(t.audit).map((e) => e.token.id)).toEqual([first.record.id]);
    });

    test('a backend failure is a warning without the token, nothing is revoked for it, and later reports are still checked', async () => {
      const live = await t.store.create({ name: 'live' });
      const original = t.provider.get.bind(t.provider);
      t.provider.get = async () => {
        throw new Error(`backend down while reading ${live.token}`);
      };
      expect((await report([live.token])).status).toBe(202);
      await t.router.leakedIdle();
      t.provider.get = original;
      expect(t.logs).toContainEqual(expect.stringMatching(/^warn .*a reported token could not be checked, nothing was revoked for it \(Error\)$/));
      expect(await t.store.verify(live.token)).not.toBeNull();
      expect(tokenEvents(t.audit)).toEqual([]);
      expect((await report([live.token])).status).toBe(202);
      await t.router.leakedIdle();
      expect(await t.store.verify(live.token)).toBeNull();
      expect(everything()).not.toContain(live.token);
    });
  });

  describe(`without leakedTokenEndpoint on ${label}`, () => {
    test('the path is guarded as before (401) and a reported token keeps working; a non-boolean option is a startup error', async () => {
      const backend = await open();
      let t: AdminApp | undefined;
      try {
        t = await makeAdminApp({ provider: backend.provider, store: { path: backend.tokenPath } });
        const { token } = await t.store.create({ name: 'ci' });
        const res = await request(t.app)
          .post(`${t.base}/tokens/leaked`)
          .set('Content-Type', 'application/json')
          .send({ tokens: [token] });
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
        await t.router.leakedIdle();
        expect(await t.store.verify(token)).not.toBeNull();
        const { store } = t;
        expect(() => tokenAdminRouter({ tokens: store, leakedTokenEndpoint: 'yes' as never })).toThrow(ConfigError);
        expect(() => tokenAdminRouter({ tokens: store, leakedTokenEndpoint: 'yes' as never })).toThrow(/leakedTokenEndpoint must be true or false/);
        const withoutVerify = { create: store.create, list: store.list, get: store.get, revoke: store.revoke, rotate: store.rotate };
        expect(() => tokenAdminRouter({ tokens: withoutVerify, guard: (_q, _s, next) => next(), leakedTokenEndpoint: true })).toThrow(/needs a TokenStore/);
      } finally {
        await t?.store.close();
        await backend.close();
      }
    });
  });
}
