// TLS against a real OpenBao: `bao server -dev -dev-tls` makes its own CA and serves HTTPS.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BackendError, createVaultProvider, type VaultProvider, type VaultTlsOptions } from '../../lib';
import { binaryPath, describeWith } from '../support/components';
import { freePort } from '../support/openbao';
import { sleep } from '../support/sleep';

const ROOT = 'tls-root-token';

describeWith('openbao', 'vault provider over TLS (bao server -dev-tls)', () => {
  let server: ChildProcess;
  let address: string;
  let ca: Buffer;
  const providers: VaultProvider[] = [];
  const make = (tls: VaultTlsOptions | undefined) => {
    const p = createVaultProvider({ address, auth: { method: 'token', token: ROOT }, tls, timeoutMs: 2_000, retries: 0 });
    providers.push(p);
    return p;
  };

  beforeAll(async () => {
    const port = await freePort();
    address = `https://127.0.0.1:${port}`;
    server = spawn(
      binaryPath('bao') as string,
      ['server', '-dev', '-dev-tls', '-dev-no-store-token', `-dev-root-token-id=${ROOT}`, `-dev-listen-address=127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    server.stdout?.on('data', (d) => {
      out += d;
    });
    const deadline = Date.now() + 20_000;
    const caPath = (): string | undefined => /BAO_CACERT='([^']+)'/.exec(out)?.[1];
    while (!caPath()) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`bao -dev-tls did not start:\n${out}`);
      await sleep(50);
    }
    ca = await readFile(caPath() as string);
    const probe = make({ ca });
    for (;;) {
      try {
        await probe.get('probe/ready');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    server?.kill('SIGTERM');
  });

  test('with the server CA in `tls.ca`, reads and writes work over HTTPS', async () => {
    const provider = make({ ca });
    await provider.put('tls/k', { v: 'over https' });
    expect((await provider.get('tls/k'))?.data).toEqual({ v: 'over https' });
  });

  test('without the CA the certificate is refused, clearly and at once (no hang, no plaintext fallback)', async () => {
    const provider = make(undefined);
    const started = Date.now();
    const err = await provider.get('tls/k').catch((e: Error) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/CERT|certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('rejectUnauthorized: false is honoured (for local experiments only)', async () => {
    await make({ ca }).put('tls/unverified', { v: 'written with the CA' });
    const provider = make({ rejectUnauthorized: false });
    expect((await provider.get('tls/unverified'))?.data).toEqual({ v: 'written with the CA' });
  });
});
