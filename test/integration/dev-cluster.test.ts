import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterDescription } from '../../src/cli/cluster-description.js';
import { CLI_PATH, runCli } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

// `sluice dev-cluster` as a person runs it: a real etcd and three real brokers, driven only
// through the CLI (topic, produce, consume, cluster describe), stopped by SIGINT, then resumed.
const TOPIC = 'dev-orders';
const PARTITIONS = 2;
const RECORDS = 20;
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 40_000;

interface Started {
  readonly etcd: { url: string; pid: number };
  readonly brokers: Array<{ id: number; ws: string; http: string; pid: number }>;
}

/** A running `sluice dev-cluster`, its stdout split into lines. */
class DevClusterProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [CLI_PATH, 'dev-cluster', ...args], { stdio: 'pipe', env });
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits (bounded) for the `ready` line and parses the lines before it. */
  async ready(): Promise<Started> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.lines.includes('ready')) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no "ready" line; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const etcd = /^etcd (http:\/\/127\.0\.0\.1:\d+) pid (\d+)$/.exec(this.lines.find((line) => line.startsWith('etcd ')) ?? '');
    if (etcd === null) throw new Error(`no etcd line in ${this.lines.join('\n')}`);
    const brokers = this.lines.filter((line) => line.startsWith('broker ')).map((line) => {
      const match = /^broker (\d+) (ws:\/\/127\.0\.0\.1:(\d+)) (http:\/\/127\.0\.0\.1:(\d+)) pid (\d+)$/.exec(line);
      if (match === null) throw new Error(`unexpected broker line ${line}`);
      expect(match[3]).toBe(match[5]);
      return { id: Number(match[1]), ws: match[2]!, http: match[4]!, pid: Number(match[6]) };
    });
    return { etcd: { url: etcd[1]!, pid: Number(etcd[2]) }, brokers };
  }

  /** Sends `signal` by PID and waits (bounded) for the exit code; SIGKILL if it does not come. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    process.kill(this.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), EXIT_TIMEOUT_MS); })]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`dev-cluster did not exit within ${EXIT_TIMEOUT_MS} ms of ${signal}`);
    }
    return code;
  }
}

/** True while a process with that PID exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Waits (bounded) until none of `pids` exists; returns those still there at the deadline. */
async function gone(pids: readonly number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = left.filter(alive);
  }
  return left;
}

/** Runs `sluice <args>` with `input` on stdin (bounded). */
function runWithInput(args: readonly string[], input: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sluice ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input);
  });
}

/** `cluster describe --format json` until `done` holds of it (bounded: followers catch up asynchronously). */
async function describeUntil(broker: string, done: (description: ClusterDescription) => boolean, timeoutMs = 20_000): Promise<ClusterDescription> {
  const deadline = Date.now() + timeoutMs;
  let last: ClusterDescription | null = null;
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    const result = await runCli(['cluster', 'describe', '--broker', broker, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    last = JSON.parse(result.stdout) as ClusterDescription;
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`cluster describe never showed the expected state; last:\n${JSON.stringify(last, null, 2)}`);
}

const settled = (description: ClusterDescription): boolean => {
  const topic = description.topics.find((candidate) => candidate.name === TOPIC);
  return topic !== undefined && topic.partitions.every((p) => p.isr.length === 3
    && p.replicasState.every((r) => r.highWatermark !== null && r.highWatermark === r.logEndOffset && r.logEndOffset === p.replicasState[0]!.logEndOffset));
};

let dataDir: string;
let cleanup: () => Promise<void>;
let cluster: DevClusterProcess | null = null;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-dev-cluster-'));
});

afterAll(async () => {
  await cluster?.stop('SIGTERM').catch(() => null);
  await cleanup();
}, 60_000);

describe('sluice dev-cluster', () => {
  let started: Started;
  let values: string[];

  it('starts etcd and three brokers, prints where they are, then "ready"', async () => {
    cluster = new DevClusterProcess(['--brokers', '3', '--data-dir', dataDir]);
    started = await cluster.ready();
    expect(started.brokers.map((broker) => broker.id)).toEqual([1, 2, 3]);
    expect(cluster.lines).toContain(`logs ${dataDir}/dev-cluster`);
    for (const { pid } of [started.etcd, ...started.brokers]) expect(alive(pid)).toBe(true);
    const health = await fetch(`${started.brokers[1]!.http}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', brokerId: 2 });
  }, 120_000);

  it('creates a replicated topic with min-insync-replicas, and refuses one above the replication factor', async () => {
    const broker = started.brokers[0]!.ws;
    const created = await runCli(['topic', 'create', TOPIC, '--partitions', String(PARTITIONS), '--replication-factor', '3', '--min-insync-replicas', '2', '--broker', broker]);
    expect(created.code, created.stderr).toBe(0);
    const described = await runCli(['topic', 'describe', TOPIC, '--broker', started.brokers[2]!.ws]);
    expect(described.stdout.split('\n')[0]).toBe(`topic ${TOPIC} partitions ${PARTITIONS} replication-factor 3 min-insync-replicas 2`);
    const refused = await runCli(['topic', 'create', 'too-strict', '--replication-factor', '3', '--min-insync-replicas', '4', '--broker', broker]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('INVALID_CONFIG');
    expect((await runCli(['topic', 'list', '--broker', broker])).stdout.split('\n')).not.toContain('too-strict');
  });

  it('produces through one broker and consumes through another', async () => {
    values = Array.from({ length: RECORDS }, (_, i) => `order-${i}`);
    const produced = await runWithInput(['produce', '--topic', TOPIC, '--acks', 'all', '--print-offsets', '--broker', started.brokers[0]!.ws], `${values.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout.trim().split('\n')).toHaveLength(RECORDS);
    const consumed = await runCli(['consume', '--topic', TOPIC, '--from-beginning', '--broker', started.brokers[2]!.ws]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual([...values].sort());
  });

  it('cluster describe --format json: three brokers, a controller, 3-member ISRs and HW = LEO on every replica', async () => {
    const description = await describeUntil(started.brokers[1]!.ws, settled);
    expect(description.brokers.map((broker) => broker.brokerId)).toEqual([1, 2, 3]);
    expect(description.brokers.map((broker) => `ws://${broker.host}:${broker.port}`)).toEqual(started.brokers.map((broker) => broker.ws));
    expect([1, 2, 3]).toContain(description.controllerId);
    const topic = description.topics.find((candidate) => candidate.name === TOPIC)!;
    expect(topic.partitions.map((p) => p.partition)).toEqual([0, 1]);
    let total = 0;
    for (const partition of topic.partitions) {
      expect([...partition.replicas].sort()).toEqual([1, 2, 3]);
      expect([...partition.isr].sort()).toEqual([1, 2, 3]);
      expect(partition.replicas).toContain(partition.leader);
      expect(partition.replicasState.map((r) => r.brokerId)).toEqual(partition.replicas);
      total += partition.replicasState[0]!.logEndOffset!;
    }
    expect(total).toBe(RECORDS);
    const text = await runCli(['cluster', 'describe', '--broker', started.brokers[1]!.ws]);
    expect(text.stdout).toMatch(/^controller [123]\n/);
    expect(text.stdout).toMatch(new RegExp(`^${TOPIC} +0 +[123] +\\d+ +[123],[123],[123] +[123],[123],[123] +\\d:\\d+/\\d+ \\d:\\d+/\\d+ \\d:\\d+/\\d+$`, 'm'));
  });

  it('stops every broker and etcd on SIGINT, exits 0, and leaves no child process', async () => {
    const pids = [started.etcd.pid, ...started.brokers.map((broker) => broker.pid)];
    expect(await cluster!.stop('SIGINT')).toBe(0);
    expect(cluster!.lines.at(-1)).toBe('stopped');
    expect(cluster!.stderr).not.toContain('unexpectedly');
    expect(await gone(pids)).toEqual([]);
    cluster = null;
  });

  it('resumes the same cluster, data included, when started again on the same data directory', async () => {
    cluster = new DevClusterProcess(['--brokers', '3', '--data-dir', dataDir]);
    const again = await cluster.ready();
    const consumed = await runCli(['consume', '--topic', TOPIC, '--from-beginning', '--broker', again.brokers[1]!.ws]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual([...values].sort());
    const pids = [again.etcd.pid, ...again.brokers.map((broker) => broker.pid)];
    expect(await cluster.stop('SIGTERM')).toBe(0);
    expect(await gone(pids)).toEqual([]);
    cluster = null;
  }, 120_000);

  it('says which etcd to install, and exits 1, when there is none on PATH', async () => {
    const missing = new DevClusterProcess(['--data-dir', dataDir], { ...process.env, PATH: '/nonexistent' });
    expect(await missing.exited).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('apt-get install etcd-server');
    expect(missing.lines).toEqual([]);
  });
});
