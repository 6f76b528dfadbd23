// The failover budget and check-and-set safety of the Vault provider, on faults a real server
// cannot be made to show on demand: nodes that refuse or hang, and a TCP proxy in front of the
// shared OpenBao dev server that loses one answer (the write applied) or one request (it did not).
import { createServer, type Server, Socket } from 'node:net';
import { BackendUnavailableError, createVaultProvider, type VaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { freePort } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';

interface Listener {
  port: number;
  close(): Promise<void>;
}

async function serve(server: Server, sockets: Set<Socket>): Promise<Listener> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Accepts connections and never answers. */
function hungServer(): Promise<Listener> {
  const sockets = new Set<Socket>();
  return serve(
    createServer((s) => void sockets.add(s)),
    sockets,
  );
}

type Fault = 'lose-answer' | 'lose-request';

/** A TCP proxy to `target`; `arm(fault, marker)` makes the next request containing `marker` fail that way. */
async function faultProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let armed: { fault: Fault; marker: string } | null = null;
  let hits = 0;
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = new Socket();
    sockets.add(upstream);
    upstream.connect(targetPort, '127.0.0.1');
    let dropAnswer = false;
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.toString('latin1').includes(armed.marker)) {
        const { fault } = armed;
        armed = null;
        hits++;
        if (fault === 'lose-request') {
          client.destroy();
          upstream.destroy();
          return;
        }
        dropAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (dropAnswer) {
        client.destroy(); // the server acted; the client never hears about it
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  const listener = await serve(server, sockets);
  return {
    ...listener,
    arm: (fault: Fault, marker: string) => {
      armed = { fault, marker };
    },
    hits: () => hits,
  };
}

describe('failover budget', () => {
  const auth = { method: 'token' as const, token: 't' };

  test('nodes that refuse: the call ends when the budget runs out, and says so with the time spent', async () => {
    const addresses = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const provider = createVaultProvider({ addresses, auth, failoverBudgetMs: 400, timeoutMs: 1_000 });
    const started = Date.now();
    const err = await provider.get('a/b').catch((e: unknown) => e);
    const spent = Date.now() - started;
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/The failover budget ran out \(failoverBudgetMs 400\): gave up to read "a\/b" after \d+ ms and \d+ attempts/);
    expect(spent).toBeLessThan(400 + 300);
    expect(provider.requestCount).toBeGreaterThan(2); // it kept trying
    await provider.close();
  });

  test('nodes that hang: every attempt is cut to the time left, so the call ends within the budget, not attempts × timeoutMs', async () => {
    const hung = [await hungServer(), await hungServer()];
    const provider = createVaultProvider({
      addresses: hung.map((h) => `http://127.0.0.1:${h.port}`),
      auth,
      failoverBudgetMs: 1_200,
      timeoutMs: 1_000,
    });
    try {
      const started = Date.now();
      await expect(provider.put('a/b', { v: 1 })).rejects.toThrow(/failover budget ran out/);
      expect(Date.now() - started).toBeLessThan(1_200 + 300);
    } finally {
      await provider.close();
      await Promise.all(hung.map((h) => h.close()));
    }
  });

  test('one address: no failover budget by default, `retries` bounds a call as before', async () => {
    const provider = createVaultProvider({ address: `http://127.0.0.1:${await freePort()}`, auth, retries: 1 });
    await expect(provider.get('a')).rejects.toThrow(/Cannot reach Vault .* to read "a"/);
    const before = provider.requestCount;
    const started = Date.now();
    await expect(provider.get('a')).rejects.toThrow(/Cannot reach Vault .* to read "a"/);
    // the mount check, not done yet (one attempt), then retries + 1 attempts of the read
    expect(provider.requestCount - before).toBe(1 + 2);
    expect(Date.now() - started).toBeLessThan(1_000);
    await provider.close();
  });
});

describeWith('openbao', 'check-and-set writes after a lost answer', () => {
  let proxy: Awaited<ReturnType<typeof faultProxy>>;
  const providers: VaultProvider[] = [];
  beforeAll(async () => {
    proxy = await faultProxy(Number(new URL(sharedVault().address).port));
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await proxy.close();
  });
  const make = (failoverBudgetMs: number) => {
    const p = createVaultProvider({ address: `http://127.0.0.1:${proxy.port}`, auth: { method: 'token', token: sharedVault().token }, failoverBudgetMs });
    providers.push(p);
    return p;
  };

  test('the write applied but its answer was lost: a re-read shows it, and the call succeeds without writing twice', async () => {
    const provider = make(0);
    const path = `${uniquePrefix('cas-lost')}/k`;
    const { version } = await provider.put(path, { v: 1 }, { cas: 0 });
    proxy.arm('lose-answer', `POST /v1/secret/data/${path}`);
    const before = provider.requestCount;
    expect(await provider.put(path, { v: 2 }, { cas: version })).toEqual({ version: (version ?? 0) + 1 });
    expect(proxy.hits()).toBeGreaterThan(0);
    expect(provider.requestCount - before).toBe(2); // the write, once, and the re-read
    expect(await provider.get(path)).toEqual({ data: { v: 2 }, version: (version ?? 0) + 1 });
  });

  test('the request was lost before the server saw it: the re-read shows the old version, so it is sent again (within the budget)', async () => {
    const provider = make(2_000);
    const path = `${uniquePrefix('cas-unsent')}/k`;
    const { version } = await provider.put(path, { v: 1 }, { cas: 0 });
    proxy.arm('lose-request', `POST /v1/secret/data/${path}`);
    expect(await provider.put(path, { v: 2 }, { cas: version })).toEqual({ version: (version ?? 0) + 1 });
    expect(await provider.get(path)).toEqual({ data: { v: 2 }, version: (version ?? 0) + 1 });
  });

  test('without a failover budget, a check-and-set write that surely did not apply fails as before (never sent twice)', async () => {
    const provider = make(0);
    const path = `${uniquePrefix('cas-nobudget')}/k`;
    const { version } = await provider.put(path, { v: 1 }, { cas: 0 });
    proxy.arm('lose-request', `POST /v1/secret/data/${path}`);
    await expect(provider.put(path, { v: 2 }, { cas: version })).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await provider.get(path)).toEqual({ data: { v: 1 }, version });
  });

  test('another writer changed the key before the lost request: the re-read shows a foreign version, ConflictError', async () => {
    const provider = make(2_000);
    const other = make(0);
    const path = `${uniquePrefix('cas-race')}/k`;
    const { version } = await provider.put(path, { v: 1 }, { cas: 0 });
    await other.put(path, { v: 'other' });
    proxy.arm('lose-request', `POST /v1/secret/data/${path}`);
    await expect(provider.put(path, { v: 2 }, { cas: version })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await provider.get(path))?.data).toEqual({ v: 'other' });
  });
});
