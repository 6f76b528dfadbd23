// The leader vote and the read-consistency headers of the Vault provider, with the nodes' answers
// given directly: a deposed leader that still claims to lead, or a node that never answers, cannot
// be produced on demand by a real cluster (spec/ha/cluster.spec.ts covers the real one).
import { BackendUnavailableError } from '../../lib';
import { ConsistencyTracker } from '../../lib/providers/vault-consistency';
import { type LeaderAnswer, VaultNodes } from '../../lib/providers/vault-nodes';

const N = ['http://n1:8200', 'http://n2:8200', 'http://n3:8200'];
const never = new Promise<LeaderAnswer>(() => undefined);

describe('VaultNodes: the active node by majority vote', () => {
  test('a deposed leader that still says is_self is outvoted by the two others', async () => {
    const answers: Record<string, LeaderAnswer> = {
      [N[0] as string]: { is_self: true, leader_address: N[0] },
      [N[1] as string]: { is_self: true, leader_address: N[1] },
      [N[2] as string]: { is_self: false, leader_address: N[1] },
    };
    const nodes = new VaultNodes(N, async (address) => answers[address] as LeaderAnswer);
    expect(await nodes.activeNode(1_000)).toBe(N[1]);
  });

  test('a node that never answers does not delay the vote once a majority agrees', async () => {
    const nodes = new VaultNodes(N, (address) => (address === N[0] ? never : Promise.resolve({ leader_address: `${N[2]}/` })));
    const started = Date.now();
    expect(await nodes.activeNode(5_000)).toBe(N[2]);
    expect(Date.now() - started).toBeLessThan(100);
  });

  test('no majority (an election is running): BackendUnavailableError; the answer is cached, and asked again after a failure', async () => {
    let leader = '';
    let probes = 0;
    const nodes = new VaultNodes(N, async () => {
      probes++;
      return { leader_address: leader };
    });
    await expect(nodes.activeNode(1_000)).rejects.toBeInstanceOf(BackendUnavailableError);
    leader = N[0] as string;
    expect(await nodes.activeNode(1_000)).toBe(N[0]);
    const after = probes;
    expect(await nodes.activeNode(1_000)).toBe(N[0]);
    expect(probes).toBe(after); // cached
    nodes.failed(N[0] as string);
    leader = N[2] as string;
    expect(await nodes.activeNode(1_000)).toBe(N[2]);
  });

  test('a 307 names the new active node; the read rotation skips a node that just failed', () => {
    const nodes = new VaultNodes(N, () => never);
    expect(nodes.redirectedTo('http://N2:8200/v1/secret/data/x')).toBe(N[1]);
    nodes.failed(N[0] as string);
    const picks = Array.from({ length: 6 }, () => nodes.readNode());
    expect(picks).not.toContain(N[0]);
    expect(new Set(picks)).toEqual(new Set([N[1], N[2]]));
  });

  test('nodes that name the leader by an api_addr other than the configured address: the node that says is_self maps it', async () => {
    const api = 'https://vault-2.internal:8200';
    const nodes = new VaultNodes(N, async (address) => ({ is_self: address === N[1], leader_address: api }));
    expect(await nodes.activeNode(1_000)).toBe(N[1]);
    expect(nodes.redirectedTo(`${api}/v1/secret/data/x`)).toBe(N[1]);
  });

  test('a leader that is no configured node is never used, and a 307 elsewhere is not followed (the token stays home)', async () => {
    const nodes = new VaultNodes(N, async () => ({ leader_address: 'http://elsewhere:8200' }));
    await expect(nodes.activeNode(1_000)).rejects.toThrow(/not one of .* list every node's api_addr in addresses/);
    expect(nodes.redirectedTo('http://evil.example:8200/v1/secret/data/x')).toBeUndefined();
    const single = new VaultNodes(['https://lb:8200'], () => never);
    expect(single.redirectedTo('https://vault-3:8200/v1/x')).toBe('https://vault-3:8200');
    expect(single.redirectedTo('http://vault-3:8200/v1/x')).toBeUndefined(); // no downgrade to plain HTTP
  });

  test('one address (a server or a load balancer): nothing to vote on', async () => {
    const nodes = new VaultNodes([N[0] as string], () => never);
    expect(await nodes.activeNode(10)).toBe(N[0]);
  });
});

describe('ConsistencyTracker: consistency headers', () => {
  const index = (value: number) => Buffer.from(JSON.stringify({ cluster: 'c1', value: String(value) })).toString('base64');
  const decoded = (h: Record<string, string>) => JSON.parse(Buffer.from(h['X-Vault-Index'] as string, 'base64').toString());

  test("'eventual': the highest index of this process's writes, whatever order the answers came in", () => {
    const t = new ConsistencyTracker('eventual');
    expect(t.readHeaders()).toEqual({ 'X-Vault-Inconsistent': 'forward-active-node' });
    t.observe(index(41), true);
    t.observe(index(40), true); // an earlier write's answer, late
    t.observe(index(99), false); // a read's answer says nothing about our writes
    expect(decoded(t.readHeaders())).toEqual({ cluster: 'c1', value: '41' });
  });

  test("'strong': an index of the cluster no standby can reach, so a standby forwards to the active node", () => {
    const t = new ConsistencyTracker('strong');
    t.observe(index(7), false);
    expect(t.readHeaders()['X-Vault-Inconsistent']).toBe('forward-active-node');
    expect(decoded(t.readHeaders())).toEqual({ cluster: 'c1', value: '18446744073709551615' });
  });

  test('writes carry the index no standby can reach in both modes, so a stale standby forwards them instead of answering from its copy', () => {
    for (const mode of ['strong', 'eventual'] as const) {
      const t = new ConsistencyTracker(mode);
      expect(t.unlearned).toBe(true);
      expect(t.writeHeaders()).toEqual({});
      t.observe(index(3), false);
      expect(t.unlearned).toBe(false);
      expect(t.writeHeaders()['X-Vault-Inconsistent']).toBe('forward-active-node');
      expect(decoded(t.writeHeaders())).toEqual({ cluster: 'c1', value: '18446744073709551615' });
    }
  });

  test('a server that answers the first probe without an index (no OpenBao index support): requests go out without one', () => {
    const t = new ConsistencyTracker('strong');
    t.learned(undefined);
    expect(t.unlearned).toBe(false);
    expect(t.writeHeaders()).toEqual({});
    expect(t.readHeaders()).toEqual({ 'X-Vault-Inconsistent': 'forward-active-node' });
  });

  test('an opaque index (Vault Enterprise) is passed back as it is', () => {
    const t = new ConsistencyTracker('strong');
    t.observe('v1:opaque', true);
    expect(t.readHeaders()['X-Vault-Index']).toBe('v1:opaque');
  });
});
