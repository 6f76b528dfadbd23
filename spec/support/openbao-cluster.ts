// A real 3-node OpenBao HA cluster with integrated (Raft) storage on loopback, for the HA specs and
// bench/ha.ts: `bao server -config` x3 with `retry_join` among free ports, init (1 key share),
// unseal every node, wait for an active node, KV v2 at `secret/` with `max_versions = 1`, and
// optionally the least-privilege policy of docs/vault.md with a token bound to it.
// Every process is ended by its PID; the temp folders are removed by stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binaryPath } from './components';
import { baoRequest, freePort } from './openbao';
import { removeTempDir, tempDir } from './temp-dir';
import { sleep } from './sleep';

const START_TIMEOUT_MS = 30_000;

// Inside a spec Jest hands out a copy of `process` whose 'exit' event never fires (see openbao.ts).
const realProcess = (spawn.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

export interface ClusterNode {
  /** e.g. http://127.0.0.1:41234 */
  readonly address: string;
  /** Raft node id, e.g. "node-1". */
  readonly id: string;
  /** PID of the running server, or undefined when stopped. */
  pid(): number | undefined;
  /** SIGKILL (kill -9); resolves once the process has exited. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(): void;
  resume(): void;
  /** Start the server again on the same ports and data folder, and unseal it. */
  restart(): Promise<void>;
}

export interface OpenBaoCluster {
  readonly nodes: ClusterNode[];
  readonly addresses: string[];
  readonly rootToken: string;
  /** The node whose sys/leader says is_self, polled until one does (or the timeout passes). */
  activeNode(timeoutMs?: number): Promise<ClusterNode>;
  /** Kills every process (by PID) and removes the data folders. */
  stop(): Promise<void>;
}

interface RunningProcess {
  child: ChildProcess;
  exited: Promise<void>;
  tail(): string;
}

function baoBinary(): string {
  const bao = binaryPath('bao');
  if (!bao) throw new Error('OpenBao binary `bao` not found on PATH or in .tools/openbao: run `node scripts/provision.js`');
  return bao;
}

const live = new Set<ChildProcess>();
const killLive = (): void => {
  for (const child of live) if (child.pid) process.kill(child.pid, 'SIGKILL');
};

function spawnServer(configFile: string): RunningProcess {
  const child = spawn(baoBinary(), ['server', `-config=${configFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (live.size === 0) realProcess.on('exit', killLive);
  live.add(child);
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 30) lines.splice(0, lines.length - 30);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      if (live.size === 0) realProcess.removeListener('exit', killLive);
      resolve();
    });
  });
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void })?.unref?.();
  return { child, exited, tail: () => lines.slice(-12).join('\n') };
}

async function killProcess(proc: RunningProcess | undefined): Promise<void> {
  if (!proc?.child.pid || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  process.kill(proc.child.pid, 'SIGCONT'); // a stopped process must run to die cleanly from SIGKILL
  process.kill(proc.child.pid, 'SIGKILL');
  await proc.exited;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = START_TIMEOUT_MS, tail = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`OpenBao cluster: ${what} not reached within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}\n${tail()}`);
}

/** Distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export interface ClusterOptions {
  /** Nodes (default 3). */
  size?: number;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<OpenBaoCluster> {
  const size = opts.size ?? 3;
  const ports = await freePorts(size * 2);
  const root = await tempDir('esa-ha-');
  const specs = Array.from({ length: size }, (_, i) => ({
    id: `node-${i + 1}`,
    apiPort: ports[2 * i] as number,
    clusterPort: ports[2 * i + 1] as number,
    dir: join(root, `node-${i + 1}`),
  }));
  const procs: (RunningProcess | undefined)[] = [];
  const configFiles: string[] = [];
  for (const spec of specs) {
    await mkdir(spec.dir, { recursive: true });
    const joins = specs
      .filter((other) => other !== spec)
      .map((other) => `  retry_join {\n    leader_api_addr = "http://127.0.0.1:${other.apiPort}"\n  }`)
      .join('\n');
    const file = join(spec.dir, 'server.hcl');
    await writeFile(
      file,
      [
        `storage "raft" {\n  path = ${JSON.stringify(spec.dir)}\n  node_id = "${spec.id}"\n  performance_multiplier = 1\n${joins}\n}`,
        `listener "tcp" {\n  address = "127.0.0.1:${spec.apiPort}"\n  cluster_address = "127.0.0.1:${spec.clusterPort}"\n  tls_disable = true\n}`,
        `api_addr = "http://127.0.0.1:${spec.apiPort}"`,
        `cluster_addr = "http://127.0.0.1:${spec.clusterPort}"`,
        'disable_mlock = true',
        'ui = false',
        '',
      ].join('\n'),
    );
    configFiles.push(file);
  }
  const addresses = specs.map((s) => `http://127.0.0.1:${s.apiPort}`);
  const tails = () => procs.map((p, i) => `--- ${specs[i]?.id}\n${p?.tail() ?? ''}`).join('\n');
  const stopAll = async (): Promise<void> => {
    await Promise.all(procs.map((p) => killProcess(p)));
    await removeTempDir(root);
  };

  try {
    for (const file of configFiles) procs.push(spawnServer(file));
    const seal = (address: string) => baoRequest<{ sealed: boolean; initialized: boolean }>(address, undefined, 'GET', 'sys/seal-status');
    for (const address of addresses)
      await until(`${address} answering`, async () => ((await seal(address)).status === 200 ? true : undefined), START_TIMEOUT_MS, tails);

    const init = await baoRequest<{ root_token: string; keys_base64: string[] }>(addresses[0] as string, undefined, 'POST', 'sys/init', {
      secret_shares: 1,
      secret_threshold: 1,
    });
    if (init.status !== 200 || !init.body) throw new Error(`OpenBao cluster: init answered ${init.status}`);
    const { root_token: rootToken } = init.body;
    const unsealKey = init.body.keys_base64[0] as string;

    const unseal = async (address: string): Promise<void> => {
      // A joining node needs retry_join to have fetched the challenge before unseal takes effect.
      await until(
        `${address} unsealed`,
        async () => {
          const status = await seal(address);
          if (status.body?.initialized && !status.body.sealed) return true;
          if (status.body?.sealed) await baoRequest(address, undefined, 'POST', 'sys/unseal', { key: unsealKey });
          return undefined;
        },
        START_TIMEOUT_MS,
        tails,
      );
    };
    await unseal(addresses[0] as string);
    const leaderOf = async (address: string) => (await baoRequest<{ is_self: boolean; leader_address: string }>(address, undefined, 'GET', 'sys/leader')).body;
    await until('a first active node', async () => ((await leaderOf(addresses[0] as string))?.is_self ? true : undefined), START_TIMEOUT_MS, tails);
    // Autopilot promotes a joined node to voter once it has been healthy this long (default 10 s).
    await baoRequest(addresses[0] as string, rootToken, 'POST', 'sys/storage/raft/autopilot/configuration', {
      server_stabilization_time: '1s',
      cleanup_dead_servers: false,
    });
    const first = addresses[0] as string;
    const mount = await baoRequest(first, rootToken, 'POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    if (mount.status !== 204 && mount.status !== 200) throw new Error(`OpenBao cluster: enabling KV v2 answered ${mount.status}`);
    // One version per key, for the whole mount (docs/vault.md: the provider checks it at start).
    await until('KV v2 ready', async () => {
      const res = await baoRequest(first, rootToken, 'POST', 'secret/config', { max_versions: 1 });
      return res.status === 204 || res.status === 200 ? true : undefined;
    });
    await Promise.all(addresses.slice(1).map(unseal));

    const nodes: ClusterNode[] = specs.map((spec, i) => {
      const address = addresses[i] as string;
      return {
        address,
        id: spec.id,
        pid: () => (procs[i]?.child.exitCode === null && procs[i]?.child.signalCode === null ? procs[i]?.child.pid : undefined),
        kill: () => killProcess(procs[i]),
        pause: () => {
          const pid = procs[i]?.child.pid;
          if (pid) process.kill(pid, 'SIGSTOP');
        },
        resume: () => {
          const pid = procs[i]?.child.pid;
          if (pid) process.kill(pid, 'SIGCONT');
        },
        restart: async () => {
          await killProcess(procs[i]);
          procs[i] = spawnServer(configFiles[i] as string);
          await until(`${address} answering`, async () => ((await seal(address)).status === 200 ? true : undefined), START_TIMEOUT_MS, tails);
          await unseal(address);
        },
      };
    });

    const activeNode = (timeoutMs = START_TIMEOUT_MS) =>
      until(
        'an active node',
        async () => {
          for (const node of nodes) {
            if (!node.pid()) continue;
            const info = await leaderOf(node.address).catch(() => null);
            if (info?.is_self) return node;
          }
          return undefined;
        },
        timeoutMs,
        tails,
      );

    // Every node is a voter and the KV mount answers on the active node.
    await until(
      'three raft voters',
      async () => {
        const config = await baoRequest<{ data: { config: { servers: { voter: boolean }[] } } }>(
          (await activeNode()).address,
          rootToken,
          'GET',
          'sys/storage/raft/configuration',
        );
        return config.body?.data.config.servers.filter((s) => s.voter).length === size ? true : undefined;
      },
      START_TIMEOUT_MS,
      tails,
    );
    // Every standby serves KV reads locally (KV v2 on a standby waits for the upgrade marker).
    for (const node of nodes) {
      await until(
        `KV v2 served by ${node.address}`,
        async () => {
          const res = await baoRequest(node.address, rootToken, 'GET', 'secret/data/esa-cluster-probe');
          return res.status === 404 ? true : undefined;
        },
        START_TIMEOUT_MS,
        tails,
      );
    }
    return { nodes, addresses, rootToken, activeNode, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
