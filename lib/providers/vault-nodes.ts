import { BackendUnavailableError } from '../errors';

/** What `GET /v1/sys/leader` tells about the cluster, as seen by one node. */
export interface LeaderAnswer {
  is_self?: boolean;
  leader_address?: string;
  ha_enabled?: boolean;
}

/** Asks one node for its view of the leader; rejects when the node does not answer in time. */
export type LeaderProbe = (address: string, timeoutMs: number) => Promise<LeaderAnswer>;

/** How long a node that failed is passed over by the read rotation (unless every node failed). */
const DOWN_FOR_MS = 1_000;

const normalise = (address: string): string => address.replace(/\/+$/, '').toLowerCase();

/**
 * The nodes of one Vault / OpenBao cluster, as the provider sees them: which one is active (found
 * by a majority vote over every node's `sys/leader`, cached until a request to it fails or a 307
 * points elsewhere), and a rotation over the healthy nodes for reads that standbys may serve.
 * With one address (a single server, or a load balancer) there is nothing to discover.
 */
export class VaultNodes {
  readonly addresses: readonly string[];
  private active?: string;
  private discovery?: Promise<string>;
  private readonly downUntil = new Map<string, number>();
  /** A node's own `leader_address` (its api_addr) -> the address configured for it. */
  private readonly aliases = new Map<string, string>();
  private next = 0;

  constructor(
    addresses: readonly string[],
    private readonly probe: LeaderProbe,
  ) {
    this.addresses = addresses;
  }

  get clustered(): boolean {
    return this.addresses.length > 1;
  }

  /** The active node when known without asking (one node, or the cached leader). */
  get knownActive(): string | undefined {
    return this.clustered ? this.active : (this.addresses[0] as string);
  }

  /** The active node: cached, or voted on by the nodes (concurrent callers share one vote). */
  activeNode(timeoutMs: number): Promise<string> {
    const known = this.knownActive;
    if (known) return Promise.resolve(known);
    this.discovery ??= this.vote(timeoutMs).finally(() => {
      this.discovery = undefined;
    });
    return this.discovery;
  }

  /** The next node for a read that any node may serve (round robin, skipping nodes that just failed). */
  readNode(): string {
    const now = Date.now();
    for (let i = 0; i < this.addresses.length; i++) {
      const address = this.addresses[this.next++ % this.addresses.length] as string;
      if ((this.downUntil.get(address) ?? 0) <= now) return address;
    }
    return this.addresses[this.next++ % this.addresses.length] as string;
  }

  /** A request to `address` failed in a way that says it cannot serve (down, standby, sealed...). */
  failed(address: string): void {
    if (!this.clustered) return;
    this.downUntil.set(address, Date.now() + DOWN_FOR_MS);
    if (this.active === address) this.active = undefined;
  }

  /**
   * A 307 named the active node. Returns where to follow it: a configured node (or the api_addr a
   * configured node reported as its own), or with one address a URL of the same scheme; anything
   * else is not followed (undefined), so the token is never sent to a host nobody configured.
   */
  redirectedTo(location: string): string | undefined {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      return undefined;
    }
    const known = this.configured(url.origin);
    if (!this.clustered) return known ?? (url.protocol === new URL(this.addresses[0] as string).protocol ? url.origin : undefined);
    if (!known) return undefined;
    this.active = known;
    this.downUntil.delete(known);
    return known;
  }

  /** The configured address for `origin` (itself, or the node whose api_addr it is). */
  private configured(origin: string): string | undefined {
    const key = normalise(origin);
    return this.addresses.find((a) => normalise(a) === key) ?? this.aliases.get(key);
  }

  /**
   * Asks every node for the leader and settles as soon as a majority of the configured nodes name
   * the same one, so a hung node (SIGSTOP, a partition) costs nothing once the others agree. The
   * leader is named by its api_addr; a node that answers is_self tells which configured address
   * that is. A leader that maps to no configured address is never used.
   */
  private vote(timeoutMs: number): Promise<string> {
    const needed = Math.floor(this.addresses.length / 2) + 1;
    const votes = new Map<string, number>();
    let settled = 0;
    let elected: string | undefined;
    return new Promise((resolve, reject) => {
      let done = false;
      const decide = () => {
        if (done) return;
        const address = elected === undefined ? undefined : this.configured(elected);
        if (address) {
          done = true;
          this.active = address;
          this.downUntil.delete(address);
          resolve(address);
          return;
        }
        if (settled < this.addresses.length) return;
        done = true;
        const counts = [...votes.entries()].map(([leader, n]) => `${leader} × ${n}`).join(', ');
        reject(
          new BackendUnavailableError(
            elected
              ? `The Vault nodes name ${elected} as the active node, which is not one of ${this.addresses.join(', ')}: list every node's api_addr in addresses.`
              : `No active Vault node agreed on by a majority of ${this.addresses.join(', ')} (${counts || 'no node named a leader'}); a leader election may be running.`,
          ),
        );
      };
      for (const address of this.addresses) {
        this.probe(address, timeoutMs).then(
          (answer) => {
            settled++;
            const leader = answer.leader_address ? normalise(answer.leader_address) : '';
            if (leader && answer.is_self) this.aliases.set(leader, address);
            if (leader && !elected) {
              const n = (votes.get(leader) ?? 0) + 1;
              votes.set(leader, n);
              if (n >= needed) elected = leader;
            }
            decide();
          },
          () => {
            settled++;
            decide();
          },
        );
      }
    });
  }
}
