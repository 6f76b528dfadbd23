// Faults on a real, persistent OpenBao (raft storage, init + unseal here): the server stopped and
// restarted under load, sealed under load, a policy narrowed mid-run, and short-lived AppRole
// tokens. An Express app (express-session + SecretsSessionStore + bearerAuth) takes a bounded,
// steady load the whole time.
//
// TokenStore runs with verifyCacheTtlMs: 0 here so that every request reaches the backend: with the
// cache on (default 60 s), a token verified in the last verifyCacheTtlMs keeps being served from
// memory during an outage — the same bound that applies to revocation across processes.
import { createVaultProvider, TokenStore, type VaultProvider } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { describeWith } from '../support/components';
import { baoRequest, createToken, enableAppRole, enableKvV2, type PersistentServer, startPersistentServer, writePolicy } from '../support/openbao';
import {
  cookieOf,
  type FaultWatch,
  type Listening,
  listen,
  quantile,
  type RecordingLogger,
  type RequestSpec,
  recordingLogger,
  reliabilityApp,
  report,
  round,
  type Sample,
  settledHeapMb,
  statusCounts,
  steadyLoad,
  watchProcessFaults,
} from './harness';
import { sleep } from '../support/sleep';

const TIMEOUT_MS = 1_000;
const RETRIES = 1;
/** Longest a failing request may take: every attempt timing out, plus the one backoff (<= 50 ms), plus slack. */
const FAIL_BOUND_MS = (RETRIES + 1) * TIMEOUT_MS + 50 + 1_000;

const APP_POLICY = `
path "secret/data/*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`;
const DENY_POLICY = `path "secret/data/somewhere-else/*" { capabilities = ["read"] }`;

interface Rig {
  provider: VaultProvider;
  tokens: TokenStore;
  logger: RecordingLogger;
  server: Listening;
  good: string;
  revoked: string;
  forged: string;
  sessions: { user: string; cookie: string }[];
  close(): Promise<void>;
}

/** An app on `provider` with a valid, a revoked and a never-issued token, and `sessionCount` logged-in sessions. */
async function rig(provider: VaultProvider, folder: string, sessionCount: number): Promise<Rig> {
  const logger = recordingLogger();
  const tokens = new TokenStore({ provider, path: `${folder}/tokens`, bcryptCost: 4, verifyCacheTtlMs: 0, logger });
  const { app, store } = reliabilityApp({ provider, tokens, logger, sessionPath: `${folder}/sessions` });
  const server = await listen(app);
  const good = (await tokens.create({ name: 'good' })).token;
  const revokedIssued = await tokens.create({ name: 'revoked' });
  expect(await tokens.revoke(revokedIssued.record.id)).toBe(true);
  const sessions: { user: string; cookie: string }[] = [];
  for (let i = 0; i < sessionCount; i++) {
    const user = `user-${i}`;
    const res = await fetch(`${server.url}/login?user=${user}`, { method: 'POST' });
    expect(res.status).toBe(200);
    sessions.push({ user, cookie: cookieOf(res) as string });
  }
  return {
    provider,
    tokens,
    logger,
    server,
    good,
    revoked: revokedIssued.token,
    forged: generateToken('esa').token,
    sessions,
    async close() {
      await server.close();
      await store.close();
      await tokens.close();
      await provider.close();
    },
  };
}

/** The request mix: a session read, the valid token, the revoked token, a never-issued token. */
function mix(r: Rig) {
  return (w: number, i: number): RequestSpec => {
    switch ((w + i) % 4) {
      case 0:
        return { route: 'me', method: 'GET', path: '/me', headers: { Cookie: r.sessions[(w * 7 + i) % r.sessions.length].cookie } };
      case 1:
        return { route: 'good', method: 'GET', path: '/api/data', headers: { Authorization: `Bearer ${r.good}` } };
      case 2:
        return { route: 'revoked', method: 'GET', path: '/api/data', headers: { Authorization: `Bearer ${r.revoked}` } };
      default:
        return { route: 'forged', method: 'GET', path: '/api/data', headers: { Authorization: `Bearer ${r.forged}` } };
    }
  };
}

async function expectSessionsIntact(r: Rig): Promise<void> {
  for (const s of r.sessions) {
    const res = await fetch(`${r.server.url}/me`, { headers: { Cookie: s.cookie } });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { user: s.user } });
  }
}

async function expectNewLoginWorks(r: Rig): Promise<void> {
  const login = await fetch(`${r.server.url}/login?user=after`, { method: 'POST' });
  expect(login.status).toBe(200);
  const me = await fetch(`${r.server.url}/me`, { headers: { Cookie: cookieOf(login) as string } });
  expect(await me.json()).toEqual({ user: 'after' });
}

/** Time from `from` to the end of the first 200 of route `good` that started after it. */
function recoveryMs(samples: Sample[], from: number): number {
  const first = samples.filter((s) => s.route === 'good' && s.status === 200 && s.start >= from).sort((a, b) => a.end - b.end)[0];
  expect(first).toBeDefined();
  return first.end - from;
}

describeWith('openbao', 'faults on a persistent OpenBao (raft): outage, seal, narrowed policy, token expiry', () => {
  let bao: PersistentServer;
  let root: string;
  let faults: FaultWatch;

  beforeAll(async () => {
    // Jest also fails a suite on an unhandled rejection; this listener counts them for the figures
    // and catches uncaught exceptions that would otherwise be attributed to a later test.
    faults = watchProcessFaults();
    bao = await startPersistentServer();
    root = (await bao.init()).rootToken;
    await bao.unseal();
    await enableKvV2(bao.address, root, 'secret');
    await writePolicy(bao.address, root, 'esa-app', APP_POLICY);
  }, 60_000);

  afterAll(async () => {
    faults?.stop();
    await bao?.destroy();
  }, 30_000);

  afterEach(() => {
    expect(faults.unhandledRejections).toEqual([]);
    expect(faults.uncaughtExceptions).toEqual([]);
  });

  const vault = (auth: Parameters<typeof createVaultProvider>[0] = {}): VaultProvider =>
    createVaultProvider({ address: bao.address, auth: { method: 'token', token: root }, timeoutMs: TIMEOUT_MS, retries: RETRIES, ...auth });

  test('server stopped and restarted under load: fast 503s, no crash, sessions kept, revoked stays revoked', async () => {
    const r = await rig(vault(), 'outage', 40);
    const heapBefore = await settledHeapMb();
    const load = steadyLoad(r.server.url, 8, mix(r));
    await sleep(1_500);
    await bao.stop();
    const stoppedAt = Date.now();
    await sleep(3_000);
    const restartAt = Date.now();
    await bao.restart(); // already stopped: starts it again (sealed)
    await bao.unseal();
    const unsealedAt = Date.now();
    await sleep(2_500);
    const samples = await load.stop();
    const heapAfter = await settledHeapMb();

    const during = samples.filter((s) => s.start >= stoppedAt && s.end <= restartAt);
    const failures = samples.filter((s) => s.status !== 200 && s.status !== 401);
    const figures = {
      requests: samples.length,
      statuses: statusCounts(samples),
      duringOutage: { requests: during.length, statuses: statusCounts(during) },
      failureLatencyMs: {
        p50: quantile(
          failures.map((s) => s.end - s.start),
          0.5,
        ),
        max: Math.max(...failures.map((s) => s.end - s.start)),
      },
      outageMs: unsealedAt - stoppedAt,
      restartAndUnsealMs: unsealedAt - restartAt,
      recoveryAfterUnsealMs: recoveryMs(samples, unsealedAt),
      heapMb: { before: round(heapBefore), after: round(heapAfter) },
      unhandledRejections: faults.unhandledRejections.length,
    };
    report('outage', figures);

    // During the outage: only 503s (the never-issued token is well-formed, so it needs the backend
    // too), each within the configured timeout.
    expect(during.length).toBeGreaterThan(50);
    for (const s of during) expect([503]).toContain(s.status);
    for (const s of failures) {
      expect([500, 503]).toContain(s.status);
      expect(s.end - s.start).toBeLessThanOrEqual(FAIL_BOUND_MS);
    }
    // Never a token accepted that should not be, before, during or after.
    expect(samples.filter((s) => (s.route === 'revoked' || s.route === 'forged') && s.status === 200)).toEqual([]);
    expect(samples.filter((s) => (s.route === 'revoked' || s.route === 'forged') && s.start >= unsealedAt + 1_000).every((s) => s.status === 401)).toBe(true);
    expect(figures.recoveryAfterUnsealMs).toBeLessThan(5_000);
    expect(heapAfter - heapBefore).toBeLessThan(30);
    await expectSessionsIntact(r);
    await expectNewLoginWorks(r);
    expect(r.logger.messages.some((m) => m.includes('Cannot reach Vault'))).toBe(true);
    await r.close();
  }, 60_000);

  test('sealed under load: fails closed, BackendUnavailableError in the logs, recovers after unseal', async () => {
    const r = await rig(vault(), 'seal', 20);
    const load = steadyLoad(r.server.url, 8, mix(r));
    await sleep(1_000);
    await bao.seal();
    const sealedAt = Date.now();
    await sleep(2_500);
    const unsealCalledAt = Date.now();
    await bao.unseal();
    const unsealedAt = Date.now();
    await sleep(2_000);
    const samples = await load.stop();

    const sealed = samples.filter((s) => s.start >= sealedAt && s.end <= unsealCalledAt);
    const figures = {
      requests: samples.length,
      statuses: statusCounts(samples),
      whileSealed: { requests: sealed.length, statuses: statusCounts(sealed) },
      sealedMs: unsealedAt - sealedAt,
      recoveryAfterUnsealMs: recoveryMs(samples, unsealedAt),
      appLogSample: r.logger.messages.find((m) => m.includes('BackendUnavailableError')),
    };
    report('seal', figures);

    expect(sealed.length).toBeGreaterThan(50);
    // Fail closed: nothing protected (session route or bearer route) answers 200 while sealed.
    expect(sealed.filter((s) => s.status === 200)).toEqual([]);
    for (const s of sealed) expect(s.status).toBe(503);
    expect(samples.filter((s) => (s.route === 'revoked' || s.route === 'forged') && s.status === 200)).toEqual([]);
    expect(r.logger.messages.some((m) => /BackendUnavailableError: Vault at .* is sealed/.test(m))).toBe(true);
    expect(r.logger.messages.some((m) => m.includes('bearerAuth could not verify a token') && m.includes('sealed'))).toBe(true);
    expect(figures.recoveryAfterUnsealMs).toBeLessThan(5_000);
    await expectSessionsIntact(r);
    await expectNewLoginWorks(r);
    await r.close();
  }, 60_000);

  test('a policy narrowed mid-run: PermissionDeniedError, one HTTP request per operation (no retry storm), works again once restored', async () => {
    const appToken = await createToken(bao.address, root, ['esa-app']);
    // retries: 2 on purpose: a 403 must not be retried even when retries are configured.
    const provider = createVaultProvider({ address: bao.address, auth: { method: 'token', token: appToken }, timeoutMs: TIMEOUT_MS, retries: 2 });
    const r = await rig(provider, 'policy', 10);
    const load = steadyLoad(r.server.url, 4, mix(r));
    await sleep(800);
    await writePolicy(bao.address, root, 'esa-app', DENY_POLICY);
    await sleep(400);
    const samples = await load.stop();

    // Now count: each request below is exactly one backend operation, which the policy denies.
    const before = provider.requestCount;
    const statuses: number[] = [];
    // Sequential on purpose: concurrent verifications of one token share one backend read.
    for (let i = 0; i < 60; i++) {
      const spec = mix(r)(0, i % 2 === 0 ? 1 : 0); // 30 bearer reads, 30 session reads
      statuses.push((await fetch(r.server.url + spec.path, { method: spec.method, headers: spec.headers })).status);
    }
    for (let i = 0; i < 20; i++) statuses.push((await fetch(`${r.server.url}/login?user=denied`, { method: 'POST' })).status);
    const httpRequests = provider.requestCount - before;
    const direct = provider.requestCount;
    const ops = [
      provider.get('policy/x'),
      provider.put('policy/x', { a: 1 }),
      provider.put('policy/y', { a: 1 }, { maxVersions: 1 }),
      provider.delete('policy/x'),
      provider.list('policy'),
    ];
    const outcomes = await Promise.all(
      ops.map((p) =>
        p.then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      ),
    );
    const directRequests = provider.requestCount - direct;

    await writePolicy(bao.address, root, 'esa-app', APP_POLICY);
    const restored = await fetch(`${r.server.url}/api/data`, { headers: { Authorization: `Bearer ${r.good}` } });

    const figures = {
      loadRequests: samples.length,
      loadStatuses: statusCounts(samples),
      deniedHttpRequests: statuses.length,
      deniedStatuses: statusCounts(statuses.map((status) => ({ route: 'denied', start: 0, end: 0, status }))),
      vaultRequestsForThem: httpRequests,
      directOps: outcomes.length,
      vaultRequestsForDirectOps: directRequests,
      logSample: r.logger.messages.find((m) => m.includes('PermissionDeniedError')),
    };
    report('policy-403', figures);

    expect(httpRequests).toBe(80);
    expect(outcomes).toEqual(Array(5).fill('PermissionDeniedError'));
    expect(directRequests).toBe(5);
    expect(statuses.filter((s) => s === 200)).toEqual([]);
    // bearerAuth cannot tell, so it fails closed with 503; the session routes' error handler says 500.
    expect(new Set(statuses)).toEqual(new Set([500, 503]));
    expect(r.logger.messages.some((m) => /PermissionDeniedError: Permission denied to read ".*"\. Grant the token's policy/.test(m))).toBe(true);
    expect(restored.status).toBe(200);
    await r.close();
  }, 60_000);

  test('AppRole tokens with token_ttl 2s / token_max_ttl 4s: renewed and re-obtained without a failed request', async () => {
    const creds = await enableAppRole(bao.address, root, { policies: ['esa-app'], tokenTtl: '2s' });
    const role = await baoRequest(bao.address, root, 'POST', `auth/approle/role/${creds.role_name}`, { token_ttl: '2s', token_max_ttl: '4s' });
    expect(role.status).toBe(204);
    const provider = createVaultProvider({
      address: bao.address,
      auth: { method: 'approle', roleId: creds.role_id, secretId: creds.secret_id },
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
    });
    const r = await rig(provider, 'approle', 10);
    const startedAt = Date.now();
    const load = steadyLoad(r.server.url, 4, (w, i) => {
      const spec = mix(r)(w, i);
      // Only routes that must succeed: sessions and the valid token.
      return spec.route === 'me' || spec.route === 'good' ? spec : mix(r)(0, 1);
    });
    await sleep(10_000);
    const samples = await load.stop();
    const failed = samples.filter((s) => s.status !== 200);
    const figures = {
      requests: samples.length,
      failed: failed.length,
      statuses: statusCounts(samples),
      seconds: round((Date.now() - startedAt) / 1000),
      tokenMaxTtlPeriodsCrossed: Math.floor((Date.now() - startedAt) / 4_000),
      vaultRequests: provider.requestCount,
    };
    report('approle-expiry', figures);
    expect(samples.length).toBeGreaterThan(200);
    expect(failed).toEqual([]);
    await expectSessionsIntact(r);
    await r.close();
  }, 60_000);
});
