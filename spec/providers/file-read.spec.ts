import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReader, readAsync, SLOW_READS_IN_A_ROW } from '../../lib/providers/file-read';

// The module object itself (an `import * as` namespace cannot be spied on): the reader calls through it.
const fs: typeof import('node:fs') = jest.requireActual('node:fs');

describe('file provider reads (file-read.ts)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'esa-read-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => jest.restoreAllMocks());

  it.each([
    ['synchronous', createReader(true)],
    ['asynchronous', readAsync],
  ])('%s: whole files of any size, multi-byte characters across read boundaries, ENOENT for a missing file', async (_, read) => {
    const small = join(dir, 'small.json');
    writeFileSync(small, '{"a":1}');
    expect(await read(small)).toBe('{"a":1}');
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    expect(await read(empty)).toBe('');
    // 16 KiB exactly (the first asynchronous read's size), and 100 KiB of 3-byte characters: a
    // character split between two reads must come out whole.
    const exact = join(dir, 'exact.json');
    writeFileSync(exact, 'x'.repeat(16_384));
    expect(await read(exact)).toBe('x'.repeat(16_384));
    const big = join(dir, 'big.json');
    const text = `${'€'.repeat(34_000)}end`;
    writeFileSync(big, text);
    expect(await read(big)).toBe(text);
    await expect(read(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('three slow synchronous reads in a row send the next reads to the thread pool; one slow read alone does not', async () => {
    // A file large enough that one synchronous read takes well over a millisecond.
    const large = join(dir, 'large.json');
    writeFileSync(large, 'y'.repeat(32 * 1024 * 1024));
    const small = join(dir, 'small2.json');
    writeFileSync(small, 'z');
    const sync = jest.spyOn(fs, 'readFileSync');
    const read = createReader(true);

    await read(large);
    await read(small); // a fast read in between: the count starts again
    for (let i = 1; i < SLOW_READS_IN_A_ROW; i++) await read(large);
    expect(sync).toHaveBeenCalledTimes(SLOW_READS_IN_A_ROW + 1);
    await read(small);
    expect(sync).toHaveBeenCalledTimes(SLOW_READS_IN_A_ROW + 2);

    for (let i = 0; i < SLOW_READS_IN_A_ROW; i++) await read(large);
    const before = sync.mock.calls.length;
    expect(await read(small)).toBe('z'); // now asynchronous
    expect(sync).toHaveBeenCalledTimes(before);
  });

  it('syncReads: false reads asynchronously always', async () => {
    const small = join(dir, 'small3.json');
    writeFileSync(small, 'w');
    const sync = jest.spyOn(fs, 'readFileSync');
    expect(await createReader(false)(small)).toBe('w');
    expect(sync).not.toHaveBeenCalled();
  });
});
