import { BackendUnavailableError } from '../errors';
import type { ConsistencyTracker } from './vault-consistency';
import { AttemptFailure, classifyFailure, type FailureContext } from './vault-errors';
import type { TransportRequest, TransportResponse } from './vault-transport';

/**
 * Learns the cluster's id for the consistency headers (vault-consistency.ts) before a provider's
 * first request: `GET sys/internal/ui/mounts`, unauthenticated and outside any namespace, answers
 * with an `X-Vault-Index` on every OpenBao node, standbys included, and without one on servers
 * that send no index (then requests go out as they are). Concurrent callers share one probe.
 * Throws AttemptFailure (always 'safe': nothing of the caller's request was sent), named after the
 * caller's operation, so a node that cannot answer is failed over like any other attempt.
 */
export class IndexProbe {
  private inFlight?: Promise<void>;
  /** Probes sent, for the provider's request count. */
  sent = 0;

  constructor(
    private readonly transport: (req: TransportRequest) => Promise<TransportResponse>,
    private readonly tracker: ConsistencyTracker,
  ) {}

  /** Probes `at.address` (call it while `tracker.unlearned`); joins a probe in flight. */
  learn(at: FailureContext): Promise<void> {
    this.inFlight ??= this.probe(at).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async probe(at: FailureContext): Promise<void> {
    this.sent++;
    let status = 0;
    try {
      await this.transport({
        method: 'GET',
        uri: `${at.address}/v1/sys/internal/ui/mounts`,
        timeoutMs: at.timeoutMs,
        onResponse: (code, headers) => {
          status = code;
          if (code === 200) this.tracker.learned(headers['x-vault-index']);
        },
      });
    } catch (err) {
      throw new AttemptFailure(classifyFailure(err, at).error, 'safe');
    }
    if (status !== 200) {
      const why = `Vault at ${at.address} answered ${status} to GET sys/internal/ui/mounts (sealed, or not ready?) before it could ${at.operation} "${at.subject}".`;
      throw new AttemptFailure(new BackendUnavailableError(why, { status }), 'safe', status);
    }
  }
}
