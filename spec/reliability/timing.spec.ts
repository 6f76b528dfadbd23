// Timing: at the HTTP level, a wrong secret for a real token id and a token with a random id
// (both well-formed, valid checksum) must take indistinguishable time, or response times tell an
// attacker which ids exist (or existed: revoked, expired). Samples are interleaved in random
// order; the distributions are printed.
//
// The rate limiter is off here (rateLimit: false): every request is a failed attempt, and after
// 20 the limiter would answer 429 in microseconds for both kinds alike, hiding the difference.
// The verify cache only remembers successes, so it plays no part: every sample uses a fresh
// wrong token. bcrypt cost 8 (~11 ms here) keeps the run short; the default 10 only widens a gap.
import express from 'express';
import { bearerAuth, createVaultProvider, TokenStore } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { describeWith } from '../support/components';
import { sharedVault, uniquePrefix } from '../support/vault';
import { listen, quantile, recordingLogger, report, round } from './harness';

const SAMPLES = 300;

function distribution(values: number[]) {
  const q = (p: number) => round(quantile(values, p), 2);
  return { n: values.length, p5: q(0.05), p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9), p95: q(0.95), max: q(1) };
}

/** A text histogram with shared buckets, so the two shapes can be compared by eye. */
function histogram(series: Record<string, number[]>): string {
  const all = Object.values(series).flat();
  const lo = quantile(all, 0.01);
  const hi = quantile(all, 0.99);
  const buckets = 12;
  const width = (hi - lo) / buckets || 1;
  const lines: string[] = [];
  for (const [label, values] of Object.entries(series)) {
    const counts = Array(buckets).fill(0);
    for (const v of values) counts[Math.min(buckets - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
    lines.push(`${label.padEnd(22)} ${counts.map((c) => String(c).padStart(6)).join('')}`);
  }
  const edges = Array.from({ length: buckets }, (_, i) =>
    round(lo + i * width, 1)
      .toString()
      .padStart(6),
  ).join('');
  return [`${'bucket start (ms)'.padEnd(22)} ${edges}`, ...lines].join('\n');
}

describeWith('openbao', 'timing of failed verification at the HTTP level', () => {
  test(`wrong secret for a real id vs a random id: indistinguishable (${SAMPLES} interleaved samples each)`, async () => {
    const { address, token } = sharedVault();
    const provider = createVaultProvider({ address, auth: { method: 'token', token } });
    const logger = recordingLogger();
    const tokens = new TokenStore({ provider, path: `${uniquePrefix('timing')}/tokens`, bcryptCost: 8, logger });
    const real = await tokens.create({ name: 'real' });
    const app = express();
    app.get('/api/data', bearerAuth({ tokens, rateLimit: false, logger }), (_req, res) => {
      res.json({ ok: true });
    });
    const server = await listen(app);
    const kinds = {
      realIdWrongSecret: () => generateToken('esa', real.record.id).token,
      randomId: () => generateToken('esa').token,
    };
    const time = async (t: string): Promise<number> => {
      const start = performance.now();
      const res = await fetch(`${server.url}/api/data`, { headers: { Authorization: `Bearer ${t}` } });
      await res.arrayBuffer();
      const ms = performance.now() - start;
      expect(res.status).toBe(401);
      return ms;
    };
    for (let i = 0; i < 20; i++) for (const make of Object.values(kinds)) await time(make()); // warm-up
    const samples: Record<keyof typeof kinds, number[]> = { realIdWrongSecret: [], randomId: [] };
    for (let i = 0; i < SAMPLES; i++) {
      const order = Math.random() < 0.5 ? (['realIdWrongSecret', 'randomId'] as const) : (['randomId', 'realIdWrongSecret'] as const);
      for (const kind of order) samples[kind].push(await time(kinds[kind]()));
    }
    await server.close();
    await tokens.close();
    await provider.close();

    const real50 = quantile(samples.realIdWrongSecret, 0.5);
    const random50 = quantile(samples.randomId, 0.5);
    const iqr = (v: number[]) => quantile(v, 0.75) - quantile(v, 0.25);
    const spread = Math.max(iqr(samples.realIdWrongSecret), iqr(samples.randomId));
    const figures = {
      bcryptCost: 8,
      realIdWrongSecretMs: distribution(samples.realIdWrongSecret),
      randomIdMs: distribution(samples.randomId),
      medianRatio: round(real50 / random50, 2),
      medianDifferenceMs: round(real50 - random50, 2),
      largerIqrMs: round(spread, 2),
    };
    report('timing', figures);
    console.log(`RELIABILITY timing histogram\n${histogram(samples)}`);

    // Robust: medians within a factor of 1.5, and their difference within the spread (IQR) or 2 ms.
    expect(figures.medianRatio).toBeGreaterThan(1 / 1.5);
    expect(figures.medianRatio).toBeLessThan(1.5);
    expect(Math.abs(real50 - random50)).toBeLessThanOrEqual(Math.max(2, spread));
  }, 120_000);
});
