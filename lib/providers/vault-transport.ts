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
  // Each node's origin is parsed once: a WHATWG URL parse per request costs more than the rest of
  // building it (node-vault's uri is always `<endpoint>/v1/<path>`).
  const origins = new Map<string, Origin>();
  const send = (req: TransportRequest): Promise<TransportResponse> =>
    new Promise((resolve, reject) => {
      const to = target(origins, req.uri);
      const body = req.json !== undefined && typeof req.json === 'object' ? JSON.stringify(req.json) : undefined;
      const headers: Record<string, string | number> = { accept: 'application/json', ...req.headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const client = to.origin.protocol === 'https:' ? https : http;
      const outgoing = client.request({ ...to.origin, path: to.path, method: req.method, headers, agent }, (res) => {
        req.onResponse?.(res.statusCode ?? 0, res.headers);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          let parsed: unknown = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = { errors: [`unparsable response (${res.headers['content-type'] ?? 'no content type'})`] };
          }
          resolve({ statusCode: res.statusCode ?? 0, body: parsed, request: { path: to.path } });
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

/** What node:http needs of a node's origin. */
interface Origin {
  protocol: string;
  hostname: string;
  port: string;
  /** `user:password` from the address, sent as Basic auth (e.g. to a proxy in front of Vault). */
  auth?: string;
}

/** A path node:http sends as it is: printable ASCII without spaces (anything else is percent-encoded as a URL would). */
const PLAIN_PATH = /^[\x21-\x7e]*$/;

/** The origin of `uri` (parsed once per node) and its path with the query, encoded as a WHATWG URL would. */
function target(origins: Map<string, Origin>, uri: string): { origin: Origin; path: string } {
  const slash = uri.indexOf('/', uri.indexOf('//') + 2);
  const base = slash < 0 ? uri : uri.slice(0, slash);
  let origin = origins.get(base);
  if (!origin) {
    const url = new URL(base);
    // IPv6 hosts come bracketed from URL; node:http wants them bare.
    origin = { protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port };
    if (url.username || url.password) origin.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    if (origins.size < 64) origins.set(base, origin);
  }
  const path = slash < 0 ? '/' : uri.slice(slash);
  if (PLAIN_PATH.test(path)) return { origin, path };
  const url = new URL(uri);
  return { origin, path: url.pathname + url.search };
}
