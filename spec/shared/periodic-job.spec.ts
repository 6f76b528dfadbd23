// PeriodicJob, the one timer loop behind the session sweeper, the expiry check and auto-rotation:
// the wait counts from the end of each pass, passes never overlap, start/stop in any order leave
// at most one timer, intervals past setTimeout's limit wait in full, and a failing pass is a
// warning, never a crash. Fake timers where the clock matters; a real OS process for unref and
// for "never crashes".
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { SecretsAuthError } from '../../lib/errors';
import { jittered, PeriodicJob, type PeriodicJobOptions, passFailedMessage } from '../../lib/shared/periodic-job';
import { afterFullDelayUnref, MAX_TIMER_DELAY_MS } from '../../lib/timers';
import { compiledLibrary, ROOT } from '../support/compiled-library';
import { removeTempDir, tempDir } from '../support/temp-dir';

const DAY = 86_400_000;

/** A job whose pass takes `passMs` (fake time) and records when each pass started and ended. */
function recordingJob(extra: Partial<PeriodicJobOptions<number>> & { passMs?: number } = {}) {
  const starts: number[] = [];
  const ends: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const warnings: string[] = [];
  const { passMs = 0, ...rest } = extra;
  const job = new PeriodicJob<number>({
    name: 'test-job',
    intervalMs: 1000,
    logger: { warn: (m) => warnings.push(m) },
    run: async () => {
      starts.push(Date.now());
      peak = Math.max(peak, ++inFlight);
      if (passMs > 0) await new Promise((r) => setTimeout(r, passMs));
      inFlight--;
      ends.push(Date.now());
      return starts.length;
    },
    ...rest,
  });
  return { job, starts, ends, warnings, peak: () => peak };
}

describe('PeriodicJob (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test('waits intervalMs before the first pass, then intervalMs after each pass ENDS (a slow pass pushes the next)', async () => {
    const { job, starts, ends } = recordingJob({ passMs: 300 });
    job.start();
    await jest.advanceTimersByTimeAsync(999);
    expect(starts).toEqual([]);
    await jest.advanceTimersByTimeAsync(1 + 3 * 1300 + 300);
    expect(starts).toEqual([1000, 2300, 3600, 4900]);
    expect(ends).toEqual([1300, 2600, 3900, 5200]);
    await job.stop();
  });

  test('passes never overlap: a timer firing during runOnce() joins that pass', async () => {
    const { job, starts, peak } = recordingJob({ passMs: 300 });
    job.start();
    await jest.advanceTimersByTimeAsync(900);
    const manual = job.runOnce();
    expect(job.runOnce()).toBe(manual); // a second caller joins too
    await jest.advanceTimersByTimeAsync(400); // the timer would have fired at 1000, mid-pass
    await expect(manual).resolves.toBe(1);
    expect(starts).toEqual([900]);
    await jest.advanceTimersByTimeAsync(1300); // next pass 1000 ms after the joined pass ended (1200)
    expect(starts).toEqual([900, 2200]);
    expect(peak()).toBe(1);
    await job.stop();
  });

  test('start() is idempotent: repeated starts, and stop+start in any order, leave exactly one timer', async () => {
    const { job, starts } = recordingJob({ passMs: 300 });
    job.start();
    job.start();
    job.start();
    expect(jest.getTimerCount()).toBe(1);
    const stopping = job.stop();
    job.start();
    await stopping;
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1100); // a pass is in flight (1000..1300)
    const midPass = job.stop();
    job.start(); // restarted while that pass runs: the pass arms the one timer when it ends
    job.start();
    await jest.advanceTimersByTimeAsync(200);
    await midPass;
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(3 * 1300);
    expect(starts).toEqual([1000, 2300, 3600, 4900]);
    await job.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  test('stop() resolves only once the pass in flight has ended, and no pass follows', async () => {
    const { job, starts, ends } = recordingJob({ passMs: 300 });
    job.start();
    await jest.advanceTimersByTimeAsync(1100);
    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    expect(job.isStopped).toBe(true);
    await jest.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(100);
    await stopping;
    expect(ends).toEqual([1300]);
    await jest.advanceTimersByTimeAsync(10 * 1000);
    expect(starts).toEqual([1000]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('an interval past setTimeout’s limit (60 days) waits all of it: no pass early, one per 60 days', async () => {
    const { job, starts } = recordingJob({ intervalMs: 60 * DAY });
    job.start();
    await jest.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS + 1); // where a capped timer would fire
    expect(starts).toEqual([]);
    await jest.advanceTimersByTimeAsync(60 * DAY - MAX_TIMER_DELAY_MS - 2);
    expect(starts).toEqual([]);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([60 * DAY]);
    await jest.advanceTimersByTimeAsync(60 * DAY);
    expect(starts).toEqual([60 * DAY, 120 * DAY]);
    await job.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  test('afterFullDelayUnref: cancel works in every link of the chain; Infinity never fires, NaN fires at once', async () => {
    const fired: string[] = [];
    const cancel = afterFullDelayUnref(() => fired.push('long'), 3 * MAX_TIMER_DELAY_MS);
    afterFullDelayUnref(() => fired.push('never'), Number.POSITIVE_INFINITY);
    afterFullDelayUnref(() => fired.push('nan'), Number.NaN);
    await jest.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS + 5); // now in the second link
    expect(fired).toEqual(['nan']);
    cancel();
    await jest.advanceTimersByTimeAsync(10 * MAX_TIMER_DELAY_MS);
    expect(fired).toEqual(['nan']);
  });

  test('a failing pass (rejected or thrown) is one warning without the error’s text, and the next pass still runs', async () => {
    let n = 0;
    const { job, warnings } = recordingJob({
      run: async () => {
        n++;
        if (n === 1) throw new Error('vault said: token hvs.SECRET-VALUE is invalid');
        if (n === 2) throw new SecretsAuthError('BACKEND_UNAVAILABLE', 'The secrets backend is unreachable; check its address.');
        return n;
      },
    });
    const syncThrow = new PeriodicJob({
      name: 'sync-job',
      intervalMs: 1000,
      logger: { warn: (m) => warnings.push(m) },
      run: () => {
        throw new TypeError('not a promise');
      },
    });
    job.start();
    syncThrow.start();
    await jest.advanceTimersByTimeAsync(3000);
    expect(n).toBe(3);
    expect(warnings.filter((w) => w.startsWith('express-secrets-auth test-job'))).toEqual([
      'express-secrets-auth test-job: pass failed, will retry: Error',
      'express-secrets-auth test-job: pass failed, will retry: The secrets backend is unreachable; check its address. (SecretsAuthError BACKEND_UNAVAILABLE)',
    ]);
    expect(warnings.filter((w) => w.startsWith('express-secrets-auth sync-job'))).toEqual(
      Array(3).fill('express-secrets-auth sync-job: pass failed, will retry: TypeError'),
    );
    expect(warnings.join('\n')).not.toContain('SECRET-VALUE');
    expect(job.isScheduled && syncThrow.isScheduled).toBe(true);
    await expect(syncThrow.runOnce()).rejects.toThrow('not a promise'); // a caller of runOnce() gets the error itself
    await Promise.all([job.stop(), syncThrow.stop()]);
  });

  test('onError replaces the warning; when onError throws, the warning is logged instead', async () => {
    const seen: unknown[] = [];
    const warnings: string[] = [];
    let throwing = false;
    const job = new PeriodicJob({
      name: 'session sweep',
      intervalMs: 1000,
      logger: { warn: (m) => warnings.push(m) },
      onError: (err) => {
        seen.push(err);
        if (throwing) throw new Error('listener broke');
      },
      run: () => Promise.reject(new RangeError('boom')),
    });
    job.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(1);
    expect(warnings).toEqual([]);
    throwing = true;
    await jest.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(2);
    expect(warnings).toEqual([passFailedMessage('session sweep', new RangeError('boom'))]);
    expect(warnings[0]).toBe('express-secrets-auth session sweep: pass failed, will retry: RangeError');
    await job.stop();
  });

  test('jitter spreads each wait within ±spread of intervalMs', () => {
    expect(jittered(1000, 0.5, () => 0)).toBe(500);
    expect(jittered(1000, 0.5, () => 0.999999)).toBe(1500);
    expect(jittered(1000, 0.2, () => 0)).toBe(800);
    expect(jittered(1000, 0.2, () => 0.999999)).toBe(1200);
    expect(jittered(1000, 0, () => 0.7)).toBe(1000);
  });
});

describe('PeriodicJob (real timers)', () => {
  test("the wait counts from the end of each pass, on unref'd timers", async () => {
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      const passMs = 30;
      const intervalMs = 20;
      const starts: number[] = [];
      const ends: number[] = [];
      let done: () => void = () => {};
      const third = new Promise<void>((r) => {
        done = r;
      });
      const job = new PeriodicJob({
        name: 'real',
        intervalMs,
        run: async () => {
          starts.push(performance.now());
          await new Promise((r) => setTimeout(r, passMs));
          ends.push(performance.now());
          if (ends.length === 3) done();
        },
      });
      job.start();
      await Promise.race([third, new Promise((r) => setTimeout(r, 5000))]);
      await job.stop();
      expect(ends).toHaveLength(3);
      const gaps = starts.slice(1).map((s, i) => s - ends[i]);
      console.log(
        `real timers: pass ${passMs} ms, interval ${intervalMs} ms, gaps from a pass's end to the next start: ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`,
      );
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(intervalMs - 1); // timers may round down by under 1 ms
      const jobTimers = spy.mock.calls.flatMap((call, i) => (call[1] === intervalMs ? [spy.mock.results[i].value as NodeJS.Timeout] : []));
      expect(jobTimers.length).toBeGreaterThanOrEqual(3);
      expect(jobTimers.every((t) => !t.hasRef())).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  // What the job replaces: setInterval/setTimeout given more than 2^31-1 ms fire after 1 ms, so a
  // 30-day interval ran its pass in a loop.
  test('Node’s own setInterval with 30 days fires every ~1 ms; the job with 30 days does not run at all', async () => {
    let raw = 0;
    let reached: () => void = () => {};
    const tenFires = new Promise<void>((r) => {
      reached = r;
    });
    const interval = setInterval(() => ++raw === 10 && reached(), 30 * DAY);
    let passes = 0;
    const job = new PeriodicJob({ name: 'long', intervalMs: 30 * DAY, run: async () => void passes++ });
    job.start();
    const started = performance.now();
    // Bounded by the test timeout: a setInterval that waited 30 days would never get there.
    await tenFires;
    const tookMs = performance.now() - started;
    clearInterval(interval);
    await job.stop();
    console.log(`a 30-day interval: setInterval fired 10 times in ${tookMs.toFixed(0)} ms; PeriodicJob ran ${passes} passes meanwhile`);
    expect(passes).toBe(0);
  }, 10_000);

  test('in a real process: a failing pass with a throwing logger never crashes it, and the job never keeps it alive', async () => {
    const scratch = await tempDir('esa-periodic-');
    try {
      const { libDir } = await compiledLibrary(scratch);
      const child = `
        const { PeriodicJob } = require(${JSON.stringify(join(libDir, 'shared', 'periodic-job.js'))});
        let passes = 0;
        const failing = new PeriodicJob({ name: 'crash-test', intervalMs: 5, logger: { warn() { throw new Error('logger broke'); } },
          run: async () => { passes++; throw new Error('pass broke'); } });
        const idle = new PeriodicJob({ name: 'idle', intervalMs: 60 * 86400000, run: async () => {} });
        failing.start();
        idle.start();
        process.on('exit', (code) => process.stdout.write(JSON.stringify({ passes, code })));
        // The only ref'd timer, held until three passes have failed: then the process must exit by itself.
        const hold = setInterval(() => passes >= 3 && clearInterval(hold), 5);
      `;
      const started = Date.now();
      const out = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
        execFile(process.execPath, ['-e', child], { cwd: ROOT, timeout: 10_000 }, (err, stdout) =>
          resolve({ stdout, code: err ? ((err as { code?: number }).code ?? null) : 0 }),
        );
      });
      const tookMs = Date.now() - started;
      console.log(`child process: ${out.stdout}, exited after ${tookMs} ms`);
      expect(out.code).toBe(0);
      const result = JSON.parse(out.stdout) as { passes: number; code: number };
      expect(result.code).toBe(0);
      expect(result.passes).toBeGreaterThanOrEqual(3);
      expect(tookMs).toBeLessThan(8000); // exited by itself (the 10 s timeout would kill it)
    } finally {
      await removeTempDir(scratch);
    }
  }, 30_000);
});
