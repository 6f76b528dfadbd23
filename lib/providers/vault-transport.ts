import * as http from 'node:http';
import * as https from 'node:https';

/** What node-vault hands its `request-promise` hook for one call. */
export interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  /** A body to send as JSON (node-vault also sets `json: true` for reads). */
  json?: unknown;
  /** Bound for this exchange instead of the transport's default (node-vault passes options through). */
  timeoutMs?: number;
  /** Sees the status and headers of the answer before node-vault maps it (e.g. Location, X-Vault-Index). */
  onResponse?: (status: number, headers: http.IncomingHttpHeaders) => void;
}

/** What node-vault expects back (request-promise's full response with a parsed JSON body). */
export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/** An error code node-vault's callers see for a request that ran out of time. */
export const TIMEOUT_CODE = 'ETIMEDOUT';

/**
 * node-vault's `request-promise` extension point, filled with a plain `node:http(s)` client on a
 * keep-alive agent. node-vault's default transport (axios) costs 130-180 µs a call and halves
 * throughput under concurrency (bench/: BENCHMARKS.md); the KV calls of a session store are hot.
 * `timeoutMs` bounds the whole exchange, not just socket idleness.
 */
export function createTransport(agent: http.Agent, timeoutMs: number): { defaults(): (req: TransportRequest) => Promise<TransportResponse> } {
  const send = (req: TransportRequest): Promise<TransportResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(req.uri);
      const body = req.json !== undefined && typeof req.json === 'object' ? JSON.stringify(req.json) : undefined;
      const headers: Record<string, string | number> = { accept: 'application/json', ...req.headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const client = url.protocol === 'https:' ? https : http;
      const outgoing = client.request(url, { method: req.method, headers, agent }, (res) => {
        req.onResponse?.(res.statusCode ?? 0, res.headers);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = { errors: [`unparsable response (${res.headers['content-type'] ?? 'no content type'})`] };
          }
          resolve({ statusCode: res.statusCode ?? 0, body: parsed, request: { path: url.pathname } });
        });
      });
      const limit = req.timeoutMs ?? timeoutMs;
      const timer = setTimeout(() => {
        outgoing.destroy(Object.assign(new Error(`no answer within ${limit} ms`), { code: TIMEOUT_CODE }));
      }, limit);
      outgoing.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      outgoing.end(body);
    });
  return { defaults: () => send };
}
