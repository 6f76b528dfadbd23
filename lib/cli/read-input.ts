import { createReadStream, promises as fs } from 'node:fs';
import { UsageError } from './usage';

/** Largest input `tokens revoke-leaked` reads: 10 MiB (a scanner's report is far smaller). */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;

const tooBig = (what: string, max: number) =>
  new UsageError(`${what} is larger than ${max} bytes (${max / 1024 / 1024} MiB): split it, or pass only the scanner's findings`);

/**
 * The text of `source` (a file name, or `-` for `stdin`) as UTF-8, read in chunks and given up as
 * soon as it passes `maxBytes`, so a huge or endless input (a log, /dev/zero) is a usage error and
 * never fills the memory (leaving the loop early destroys the stream). A regular file is measured
 * before it is opened.
 * @throws UsageError when it cannot be read or is too big (the message names the file, never its text).
 */
export async function readInput(source: string, stdin: NodeJS.ReadableStream, maxBytes = MAX_INPUT_BYTES): Promise<string> {
  const what = source === '-' ? 'standard input' : `"${source}"`;
  if (source !== '-') {
    const stat = await fs.stat(source).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${what}: ${err.code === 'ENOENT' ? 'no such file' : (err.code ?? 'error')}`);
    });
    if (stat.isDirectory()) throw new UsageError(`cannot read ${what}: it is a folder`);
    if (stat.isFile() && stat.size > maxBytes) throw tooBig(what, maxBytes);
  }
  const stream = source === '-' ? stdin : createReadStream(source);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buffer.length;
      if (size > maxBytes) throw tooBig(what, maxBytes);
      chunks.push(buffer);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
