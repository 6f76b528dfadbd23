import * as http from 'node:http';
import * as https from 'node:https';
import createVaultClient from 'node-vault';
import { BackendUnavailableError } from '../errors';
import { AttemptFailure, classifyFailure, responseStatus } from './vault-errors';
import { ConsistencyTracker, type VaultConsistency } from './vault-consistency';
import { IndexProbe } from './vault-index-probe';
import { type LeaderAnswer, VaultNodes } from './vault-nodes';
import { requestCheck } from './vault-request-check';
import { createTransport, type TransportRequest, type TransportResponse } from './vault-transport';

export interface VaultTlsOptions {
  /** PEM CA bundle that signs the server certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for TLS client authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Verify the server certificate. Default true; turn off only for local experiments. */
  rejectUnauthorized?: boolean;
}

export interface VaultHttpOptions {
  /** One server (or a load balancer), or every node of an HA cluster. */
  addresses: string[];
  namespace?: string;
  tls?: VaultTlsOptions;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Retries for idempotent calls on 429, 5xx and network errors (when there is no failover budget). */
  retries: number;
  /** How long one call may keep failing over and retrying (0: `retries` alone bounds it). */
  failoverBudgetMs: number;
  consistency: VaultConsistency;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'LIST';

/** What a re-read after a lost answer tells about a write that is not idempotent. */
export type WriteCheck<T> = { applied: true; value: T | null } | { applied: false };

export interface RequestOptions<T = unknown> {
  body?: Record<string, unknown>;
  /** Safe to send again after a failure whose effect is unknown. */
  idempotent: boolean;
  /** Resolve with null on 404 instead of rejecting. */
  allowNotFound?: boolean;
  /** Secret path for error messages (never a value). */
  subject: string;
  /** Verb for error messages: "read", "write", ... */
  operation: string;
  /**
   * For a write that is not idempotent (check-and-set): after an answer was lost (timeout, reset,
   * 5xx), find out whether it applied. `applied: false` means it surely did not, so it may be sent
   * again; a throw ends the call. Without it such a write is never sent twice.
   */
  check?: (deadline: number | undefined) => Promise<WriteCheck<T>>;
  /**
   * When the provider call this request belongs to must end (epoch ms): every request of one
   * provider call (login or token lookup, mount check, the operation, a re-read) shares it, so the
   * budget bounds the whole provider call. Default: now + failoverBudgetMs.
   */
  deadline?: number;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1_000;
/** Backoff cap while failing over: an election ends at an unknown moment, so poll it often. */
const FAILOVER_BACKOFF_CAP_MS = 400;
/** An attempt with less time left than this is not started. */
const MIN_ATTEMPT_MS = 50;
/** The leader vote never waits longer than this for the nodes' answers. */
const VOTE_TIMEOUT_MS = 2_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type NodeVaultClient = ReturnType<typeof createVaultClient>;

/**
 * The HTTP layer of the Vault provider, on top of node-vault (with a lean keep-alive transport in
 * its request hook, see vault-transport.ts): timeouts, the active node of a cluster (vault-nodes.ts),
 * failover and retries with full-jitter backoff within a bounded budget, read consistency headers
 * (vault-consistency.ts), and status codes mapped to typed errors. Raw client errors are never
 * attached as `cause`: they carry request headers, which include the Vault token.
 */
export class VaultHttp {
  private readonly clients = new Map<string, NodeVaultClient>();
  private readonly agent: http.Agent;
  private readonly transport: (req: TransportRequest) => Promise<TransportResponse>;
  private readonly opts: VaultHttpOptions;
  private readonly nodes: VaultNodes;
  private readonly consistency: ConsistencyTracker;
  private readonly indexProbe: IndexProbe;
  private currentToken = '';
  private sent = 0;

  constructor(opts: VaultHttpOptions) {
    this.opts = opts;
    const isHttps = opts.addresses.some((a) => a.startsWith('https:'));
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          ca: opts.tls?.ca,
          cert: opts.tls?.cert,
          key: opts.tls?.key,
          rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
        })
      : new http.Agent({ keepAlive: true });
    this.transport = createTransport(this.agent, opts.timeoutMs).defaults();
    this.nodes = new VaultNodes(opts.addresses, (address, timeoutMs) => this.probeLeader(address, timeoutMs));
    this.consistency = new ConsistencyTracker(opts.consistency);
    this.indexProbe = new IndexProbe(this.transport, this.consistency);
  }

  /** Requests sent (the index probe's included), for diagnostics and specs. */
  get requestCount(): number {
    return this.sent + this.indexProbe.sent;
  }

  set token(token: string) {
    this.currentToken = token;
    for (const client of this.clients.values()) client.token = token;
  }

  get token(): string {
    return this.currentToken;
  }

  /** A node-vault client for one node (they share the keep-alive agent). */
  private clientFor(address: string): NodeVaultClient {
    let client = this.clients.get(address);
    if (!client) {
      client = createVaultClient({
        'request-promise': { defaults: () => this.transport },
        tv4: requestCheck as unknown as () => unknown, // typed as a function; node-vault uses .validate and .error
        // node-vault's default `debug` prints every URL and JSON body when DEBUG=node-vault is set:
        // session data, token records, AppRole secret ids. Never.
        debug: () => undefined,
        endpoint: address,
        namespace: this.opts.namespace,
        // node-vault falls back to VAULT_TOKEN; the auth layer sets the token explicitly.
        token: '',
      });
      // node-vault also reads VAULT_PREFIX from the environment into every URL; paths here are exact.
      (client as { pathPrefix?: string }).pathPrefix = '';
      client.token = this.currentToken;
      this.clients.set(address, client);
    }
    return client;
  }

  /**
   * One logical call: sent to the right node, failed over and retried (idempotent calls; writes
   * that surely did not apply; a check-and-set whose `check` shows it did not apply), within
   * `failoverBudgetMs` when set, else within `retries`; mapped to typed errors.
   */
  async request<T = Record<string, unknown>>(method: HttpMethod, path: string, o: RequestOptions<T>): Promise<T | null> {
    const started = Date.now();
    const budget = this.opts.failoverBudgetMs;
    const deadline = o.deadline ?? (budget > 0 ? started + budget : undefined);
    const read = method === 'GET' || method === 'LIST';
    let toActive = false;
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = deadline === undefined ? this.opts.timeoutMs : Math.min(this.opts.timeoutMs, deadline - Date.now());
      let failure: AttemptFailure;
      try {
        return await this.attempt<T>(method, path, o, read, toActive, timeoutMs);
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        failure = err;
      }
      if (failure.retry === 'no') throw failure.error;
      if (!o.idempotent && failure.retry === 'unknown') {
        if (!o.check) throw failure.error;
        const checked = await o.check(deadline);
        if (checked.applied) return checked.value;
      }
      if (!o.idempotent && deadline === undefined) throw failure.error;
      // A standby that has not caught up (412/429): ask the active node next.
      if (failure.status === 412 || failure.status === 429) toActive = true;
      const cap = deadline === undefined ? BACKOFF_CAP_MS : FAILOVER_BACKOFF_CAP_MS;
      const backoff = Math.random() * Math.min(cap, BACKOFF_BASE_MS * 2 ** (attempt - 1));
      if (deadline === undefined) {
        if (attempt > this.opts.retries) throw failure.error;
      } else if (Date.now() + backoff + MIN_ATTEMPT_MS > deadline) {
        throw this.budgetSpent(failure, o, o.deadline === undefined ? started : o.deadline - budget, attempt);
      }
      await sleep(backoff);
    }
  }

  private budgetSpent(failure: AttemptFailure, o: RequestOptions<unknown>, started: number, attempts: number): Error {
    const spent = Date.now() - started;
    const budget = `failoverBudgetMs ${this.opts.failoverBudgetMs}`;
    return new BackendUnavailableError(
      `${failure.error.message} The failover budget ran out (${budget}): gave up to ${o.operation} "${o.subject}" after ${spent} ms and ${attempts} attempts. Check the cluster's health, or raise failoverBudgetMs.`,
      { status: failure.status },
    );
  }

  /** One attempt: picks the node, sends, follows one 307. Throws AttemptFailure. */
  private async attempt<T>(method: HttpMethod, path: string, o: RequestOptions<T>, read: boolean, toActive: boolean, timeoutMs: number): Promise<T | null> {
    if (timeoutMs < 1) throw new AttemptFailure(new BackendUnavailableError(`No time left to ${o.operation} "${o.subject}".`), 'safe');
    let node: string;
    if (read && this.opts.consistency === 'eventual' && !toActive) {
      node = this.nodes.readNode();
    } else {
      try {
        node = this.nodes.knownActive ?? (await this.nodes.activeNode(Math.min(timeoutMs, VOTE_TIMEOUT_MS)));
      } catch (err) {
        throw new AttemptFailure(err as Error, 'safe');
      }
    }
    // Once per provider (until the first answer): no await, no allocation on every later request.
    if (this.consistency.unlearned) {
      await this.indexProbe.learn({ operation: o.operation, subject: o.subject, address: node, timeoutMs }).catch((err: unknown) => {
        this.nodes.failed(node);
        throw err;
      });
    }
    const headers = read
      ? this.consistency.readHeaders()
      : { ...this.consistency.writeHeaders(), ...(this.nodes.clustered ? { 'X-Vault-No-Request-Forwarding': 'true' } : {}) };
    try {
      return await this.send<T>(node, method, path, o, headers, timeoutMs, !read);
    } catch (err) {
      if (!(err instanceof Redirect)) {
        if (err instanceof AttemptFailure && err.retry !== 'no') this.nodes.failed(node);
        throw err;
      }
      const target = this.nodes.redirectedTo(err.location);
      if (!target) {
        this.nodes.failed(node);
        const why = `Vault at ${node} redirected (307) to a location that is not a configured node, not followed, to ${o.operation} "${o.subject}".`;
        throw new AttemptFailure(new BackendUnavailableError(why, { status: 307 }), 'safe', 307);
      }
      try {
        return await this.send<T>(target, method, path, o, headers, timeoutMs, !read);
      } catch (again) {
        if (again instanceof Redirect) {
          this.nodes.failed(target);
          throw new AttemptFailure(
            new BackendUnavailableError(`Vault at ${target} redirected again (307) to ${o.operation} "${o.subject}": the cluster is electing a leader.`, {
              status: 307,
            }),
            'safe',
            307,
          );
        }
        if (again instanceof AttemptFailure && again.retry !== 'no') this.nodes.failed(target);
        throw again;
      }
    }
  }

  private async send<T>(
    address: string,
    method: HttpMethod,
    path: string,
    o: RequestOptions<T>,
    headers: Record<string, string>,
    timeoutMs: number,
    write: boolean,
  ): Promise<T | null> {
    this.sent++;
    let location: string | undefined;
    const request: Record<string, unknown> = {
      path: `/${path}`,
      method,
      headers: { ...headers },
      timeoutMs,
      onResponse: (status: number, responseHeaders: http.IncomingHttpHeaders) => {
        if (status === 307) location = responseHeaders.location;
        else this.consistency.observe(responseHeaders['x-vault-index'], write && status < 300);
      },
    };
    if (o.body) request.json = o.body;
    try {
      return (await this.clientFor(address).request(request as { path: string; method: string })) as T;
    } catch (err) {
      const status = responseStatus(err);
      if (status === 404 && o.allowNotFound) return null;
      if (status === 307 && location) throw new Redirect(location);
      throw classifyFailure(err, { operation: o.operation, subject: o.subject, address, timeoutMs });
    }
  }

  /** `GET sys/leader` on one node, unauthenticated and outside any namespace. */
  private async probeLeader(address: string, timeoutMs: number): Promise<LeaderAnswer> {
    this.sent++;
    const res = await this.transport({ method: 'GET', uri: `${address}/v1/sys/leader`, timeoutMs });
    if (res.statusCode !== 200 || typeof res.body !== 'object' || res.body === null) throw new Error(`sys/leader answered ${res.statusCode}`);
    return res.body as LeaderAnswer;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A 307 from a standby, to follow once. */
class Redirect {
  constructor(readonly location: string) {}
}
