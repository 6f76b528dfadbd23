import fsCallbacks from 'node:fs';
import { promises as fsp } from 'node:fs';
import { createFileProvider, createMemoryProvider, createVaultProvider, type SecretProvider, type VaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { sharedVault } from '../support/vault';
import { providerContract } from './contract';
import { removeTempDir, tempDir } from '../support/temp-dir';

/** Counts calls into node:fs (promise API and callback readFile), which the file provider uses for all its I/O. */
function countFileIo(): () => number {
  let calls = 0;
  const originalRead = fsCallbacks.readFile;
  jest.spyOn(fsCallbacks, 'readFile').mockImplementation(((...args: unknown[]) => {
    calls++;
    return (originalRead as (...a: unknown[]) => unknown)(...args);
  }) as never);
  for (const name of ['readFile', 'stat', 'open', 'rm', 'readdir', 'mkdir', 'rename'] as const) {
    const original = fsp[name] as (...args: unknown[]) => unknown;
    jest.spyOn(fsp, name).mockImplementation(((...args: unknown[]) => {
      calls++;
      return original.apply(fsp, args);
    }) as never);
  }
  return () => calls;
}

describe('provider contract: memory', () => {
  providerContract({ make: () => createMemoryProvider(), ioCount: () => 0, versioned: true });
});

describe.each([
  ['plain', undefined],
  ['encrypted', 'f'.repeat(64)],
])('provider contract: file (%s)', (_label, encryptionKey) => {
  let dir: string;
  let io: () => number;
  beforeAll(async () => {
    dir = await tempDir('esa-contract-');
    io = countFileIo();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await removeTempDir(dir);
  });
  providerContract({
    make: () => createFileProvider({ basePath: dir, encryptionKey }),
    ioCount: () => io(),
    versioned: true,
  });
});

describeWith('openbao', 'provider contract: OpenBao KV v2', () => {
  providerContract({
    make: () => {
      const { address, token } = sharedVault();
      return createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2 });
    },
    ioCount: (p: SecretProvider) => (p as VaultProvider).requestCount,
    versioned: true,
  });
});

describeWith('openbao', 'provider contract: OpenBao KV v1 (kvVersion auto-detected)', () => {
  providerContract({
    make: async () => {
      const { address, token } = sharedVault();
      const mount = `kv1-${Math.random().toString(36).slice(2, 8)}`;
      await enableKvV1(address, token, mount);
      const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion: 'auto' });
      await expect(provider.kvVersion()).resolves.toBe(1);
      return provider;
    },
    ioCount: (p: SecretProvider) => (p as VaultProvider).requestCount,
    versioned: false,
  });
});
