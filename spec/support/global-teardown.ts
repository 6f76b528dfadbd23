// Jest globalTeardown: stops the shared OpenBao dev server started by global-setup.ts.
import type { DevServer } from './openbao';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __ESA_SHARED_BAO__?: DevServer };
  const server = g.__ESA_SHARED_BAO__;
  g.__ESA_SHARED_BAO__ = undefined;
  if (server) await server.stop();
}
