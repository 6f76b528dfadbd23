// How the file provider reads a secret file: synchronously while reads are fast, else with the
// fewest thread-pool trips.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** A synchronous read slower than this (ms) is slow. */
const SLOW_SYNC_READ_MS = 1;
/** Slow synchronous reads in a row that send the reads of the next minute to the thread pool (one alone may be a GC pause). */
export const SLOW_READS_IN_A_ROW = 3;
/** How long reads stay asynchronous after a slow synchronous one (ms). */
const ASYNC_SPELL_MS = 60_000;
/** Bytes the first asynchronous read asks for: a session record is well under 1 KiB. */
const FIRST_READ_BYTES = 16_384;

/** Reads a whole file as UTF-8 text. */
export type ReadText = (file: string) => Promise<string>;

/**
 * The file provider's reader. With `sync`, a read is one `readFileSync`: a secret file is small
 * and, being read on every request, in the page cache, where that takes a few µs, less than the
 * thread-pool round trips of an asynchronous read (on 2 cores: 5 to 10 times less time per get,
 * and 2 to 3 times the gets per second under load; bench/, BENCHMARKS.md). Three reads in a row
 * that take longer than SLOW_SYNC_READ_MS (a cold or busy disk) send the next minute of reads to
 * the thread pool, so a slow disk holds the event loop for a few reads a minute at most. Without
 * `sync`, every read is asynchronous (readAsync).
 */
export function createReader(sync: boolean): ReadText {
  if (!sync) return readAsync;
  let asyncUntil = 0;
  let slowInARow = 0;
  return (file) => {
    if (asyncUntil !== 0) {
      if (Date.now() < asyncUntil) return readAsync(file);
      asyncUntil = 0;
    }
    const started = performance.now();
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      return Promise.reject(err);
    }
    if (performance.now() - started <= SLOW_SYNC_READ_MS) slowInARow = 0;
    else if (++slowInARow >= SLOW_READS_IN_A_ROW) {
      slowInARow = 0;
      asyncUntil = Date.now() + ASYNC_SPELL_MS;
    }
    return Promise.resolve(text);
  };
}

/**
 * A whole file as UTF-8 text, with callbacks (`fs.promises` costs more per call): open, reads into
 * one buffer (doubled when full) until a read returns 0 bytes (no `fstat`), and the text resolved
 * before the close is done. Secret files are replaced by rename, never rewritten in place, so an
 * open file does not change while it is read.
 */
export function readAsync(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (openErr, fd) => {
      if (openErr) return reject(openErr);
      let buffer = Buffer.allocUnsafe(FIRST_READ_BYTES);
      let filled = 0;
      const finish = (err: Error | null) => {
        fs.close(fd, () => undefined);
        if (err) reject(err);
        else resolve(buffer.toString('utf8', 0, filled));
      };
      // A short read is the end on a local disk, not always on a network or FUSE file system: read until 0 bytes.
      const readMore = () => {
        try {
          if (filled === buffer.length) buffer = Buffer.concat([buffer], buffer.length * 2);
        } catch (err) {
          return finish(err as Error); // a file too large for one Buffer
        }
        fs.read(fd, buffer, filled, buffer.length - filled, -1, (readErr, bytes) => {
          if (readErr) return finish(readErr);
          if (bytes === 0) return finish(null);
          filled += bytes;
          readMore();
        });
      };
      readMore();
    });
  });
}
