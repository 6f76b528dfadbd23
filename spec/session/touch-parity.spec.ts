// The one deliberate behaviour difference in touch (README, "Migrating from connect-redis"):
// SecretsSessionStore's touch stores the new cookie with the new expiry, as express-session's
// MemoryStore does; connect-redis's touch only moves the key's expiry and keeps the stored cookie.
// The session's data is left as stored by all three.
import { MemoryStore, type SessionData } from 'express-session';
import { describeWith } from '../support/components';
import { type Backend, memoryBackend, redisBackend, type SuiteStore } from './backends';

const sess = (ms: number, extra: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) }, ...extra }) as unknown as SessionData;

type Stored = { v?: number; cookie: { originalMaxAge: number } } | null;

/** set with maxAge 60 s and data v1, then touch with maxAge 120 s and data v2; what get returns. */
async function setThenTouch(store: Pick<SuiteStore, 'set' | 'touch' | 'get'>): Promise<Stored> {
  await store.set('parity-1', sess(60_000, { v: 1 }));
  await store.touch('parity-1', sess(120_000, { v: 2 }));
  return (await store.get('parity-1')) as Stored;
}

function withBackend(make: () => Backend, check: (stored: Stored, remainingMs: number | null) => void): () => void {
  return () => {
    let backend: Backend;
    beforeAll(() => {
      backend = make();
    });
    afterAll(() => backend.teardown());
    test('set (maxAge 60 s, v: 1) then touch (maxAge 120 s, v: 2)', async () => {
      const store = backend.create(backend.namespace());
      const stored = await setThenTouch(store);
      check(stored, await backend.remainingMs(store, 'parity-1'));
    });
  };
}

describe(
  'SecretsSessionStore: touch stores the new cookie and the new expiry, keeps the data',
  withBackend(memoryBackend, (stored, remaining) => {
    expect(stored?.v).toBe(1);
    expect(stored?.cookie.originalMaxAge).toBe(120_000);
    expect(remaining).toBeGreaterThan(60_000);
  }),
);

describeWith(
  'redis',
  'connect-redis@9: touch moves the expiry only; the stored cookie keeps the old maxAge',
  withBackend(redisBackend, (stored, remaining) => {
    expect(stored?.v).toBe(1);
    expect(stored?.cookie.originalMaxAge).toBe(60_000);
    expect(remaining).toBeGreaterThan(60_000);
  }),
);

describe("express-session's MemoryStore (what SecretsSessionStore follows)", () => {
  test('touch stores the new cookie, keeps the data', async () => {
    const store = new MemoryStore();
    const promised = {
      set: (sid: string, s: SessionData) => new Promise<unknown>((r, j) => store.set(sid, s, (e) => (e ? j(e) : r(null)))),
      touch: (sid: string, s: SessionData) => new Promise<unknown>((r, j) => store.touch(sid, s, (e?: unknown) => (e ? j(e) : r(null)))),
      get: (sid: string) => new Promise<unknown>((r, j) => store.get(sid, (e, s) => (e ? j(e) : r(s ?? null)))),
    };
    const stored = await setThenTouch(promised);
    expect(stored?.v).toBe(1);
    expect(stored?.cookie.originalMaxAge).toBe(120_000);
  });
});
