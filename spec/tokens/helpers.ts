import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export { counting } from '../support/counting';

/** Every file under `dir`, concatenated as raw text (bytes read with no provider involved). */
export async function readTree(dir: string): Promise<{ files: string[]; text: string }> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.push(full);
    }
  };
  await walk(dir);
  const texts = await Promise.all(files.map((f) => fs.readFile(f, 'utf8')));
  return { files, text: texts.join('\n') };
}

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The secret part of a token `<prefix>_<id>_<secret><crc6>`. */
export function secretPart(token: string): string {
  const rest = token.slice(token.indexOf('_', token.indexOf('_') + 1) + 1);
  return rest.slice(0, -6);
}

/** A logger that records messages, for asserting what was (and was not) logged. */
export function recordingLogger(): { warn: (m: string) => void; error: (m: string) => void; messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (m) => messages.push(m), error: (m) => messages.push(m) };
}
