// Load: 200 concurrent clients x 50 requests each, with a bearer token and a session each,
// against the shared OpenBao. Each client increments its own counter in its session and checks
// every answer: its count, its session (tagged with its token's name on first use) and its token.
// The session cache is smaller than the number of sessions (max 100 < 200), so entries are
// evicted and reloaded all the time; memory is bounded by it.
import { createVaultProvider, TokenStore } from '../../lib';
import { describeWith } from '../support/components';
import { sharedVault, uniquePrefix } from '../support/vault';
import { cookieOf, listen, quantile, recordingLogger, reliabilityApp, report, round, settledHeapMb } from './harness';

const CLIENTS = 200;
const REQUESTS = 50;
const CACHE = { ttlMs: 5_000, max: 100 };

describeWith('openbao', 'load: 200 clients x 50 requests, sessions + bearer tokens on OpenBao', () => {
  test('zero errors, zero lost or crossed sessions, bounded memory', async () => {
    const { address, token } = sharedVault();
    const provider = createVaultProvider({ address, auth: { method: 'token', token } });
    const folder = uniquePrefix('load');
    const logger = recordingLogger();
    // Batches of 20 creations at once: more than the default createMaxQueue (16) would let wait.
    const tokens = new TokenStore({ provider, path: `${folder}/tokens`, bcryptCost: 4, logger, createMaxQueue: 20 });
    const { app, store } = reliabilityApp({ provider, tokens, logger, sessionPath: `${folder}/sessions`, sessionCache: CACHE });
    const server = await listen(app);
    const clients: { name: string; token: string }[] = [];
    for (let i = 0; i < CLIENTS; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => tokens.create({ name: `client-${i + j}` })));
      for (const issued of batch) clients.push({ name: issued.record.name, token: issued.token });
    }

    const heapBefore = await settledHeapMb();
    const vaultBefore = provider.requestCount;
    const latencies: number[] = [];
    const problems = { errors: 0, lost: 0, crossed: 0 };
    const examples: string[] = [];
    const started = Date.now();
    await Promise.all(
      clients.map(async (client) => {
        let cookie: string | null = null;
        for (let i = 1; i <= REQUESTS; i++) {
          const t0 = performance.now();
          const headers: Record<string, string> = { Authorization: `Bearer ${client.token}` };
          if (cookie) headers.Cookie = cookie;
          let res: Response;
          try {
            res = await fetch(`${server.url}/count`, { method: 'POST', headers });
          } catch (err) {
            problems.errors++;
            examples.push(`${client.name} #${i}: ${(err as Error).message}`);
            continue;
          }
          const body = (await res.json()) as { n?: number; client?: string; who?: string };
          latencies.push(performance.now() - t0);
          cookie ??= cookieOf(res);
          if (res.status !== 200) {
            problems.errors++;
            examples.push(`${client.name} #${i}: HTTP ${res.status} ${JSON.stringify(body)}`);
          } else if (body.client !== client.name || body.who !== client.name) {
            problems.crossed++;
            examples.push(`${client.name} #${i}: got session of ${body.client}, token of ${body.who}`);
          } else if (body.n !== i) {
            problems.lost++;
            examples.push(`${client.name} #${i}: count ${body.n}`);
          }
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const heapAfter = await settledHeapMb();

    // Every session is in OpenBao with its final count.
    const all = (await store.all()) as unknown as { client?: string; n?: number }[];
    const final = new Map(all.map((s) => [s.client, s.n]));
    const wrongFinal = clients.filter((c) => final.get(c.name) !== REQUESTS).length;

    report('load', {
      clients: CLIENTS,
      requestsEach: REQUESTS,
      requests: latencies.length,
      ...problems,
      sessionsStored: all.length,
      sessionsWithWrongFinalCount: wrongFinal,
      seconds: round(seconds),
      requestsPerSecond: Math.round(latencies.length / seconds),
      latencyMs: {
        p50: round(quantile(latencies, 0.5)),
        p90: round(quantile(latencies, 0.9)),
        p99: round(quantile(latencies, 0.99)),
        max: round(quantile(latencies, 1)),
      },
      vaultRequests: provider.requestCount - vaultBefore,
      sessionCache: CACHE,
      heapMb: { before: round(heapBefore), after: round(heapAfter) },
      examples: examples.slice(0, 5),
    });
    await server.close();
    await store.clear();
    await store.close();
    await tokens.close();
    await provider.close();

    expect(problems).toEqual({ errors: 0, lost: 0, crossed: 0 });
    expect(latencies.length).toBe(CLIENTS * REQUESTS);
    expect(all.length).toBe(CLIENTS);
    expect(wrongFinal).toBe(0);
    expect(heapAfter - heapBefore).toBeLessThan(40);
  }, 240_000);
});
