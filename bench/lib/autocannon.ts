// autocannon ships no types; this is the part bench/auth.ts and bench/http.ts use.
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
export type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
export const autocannon = require('autocannon') as Autocannon;
