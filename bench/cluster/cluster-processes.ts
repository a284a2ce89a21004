import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';

/**
 * A real cluster for the benchmark: one `etcd` from PATH and N `sluice broker --etcd` processes
 * from dist/, on 127.0.0.1 with free ports (each broker keeps its port across restarts, so the
 * clients' bootstrap URLs stay valid) and temp data directories, stopped by PID. Bench code does
 * not import test/ helpers; this is the bench's own, smaller version of test/helpers/cluster.ts.
 */

const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Longest wait for etcd or a broker to come up. */
const START_TIMEOUT_MS = 30_000;
/** Longest wait after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
/** Broker log lines kept per process (only the messages in LOG_MESSAGES_KEPT are kept at all). */
const LOG_LINES_MAX = 10_000;
/** The broker log messages the benchmark reads (failover breakdown, readiness). */
const LOG_MESSAGES_KEPT: ReadonlySet<string> = new Set(['broker started', 'leading', 'following', 'partition leader changed', 'partition isr shrunk', 'elected controller']);
/** The etcd key prefix of the bench cluster. */
export const BENCH_ETCD_PREFIX = '/bench';

/** One parsed pino line of a broker: `time` is ms since the epoch, as pino writes it. */
export type BrokerLogLine = Readonly<Record<string, unknown>> & { readonly msg: string; readonly time: number };

/** A port free on 127.0.0.1 right now (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Every child process and temp directory the bench has made and not yet removed, so that a bench
 * interrupted at any point (even while a cluster is starting) can kill them by PID and clean up.
 */
export class BenchResources {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  /** Tracks `child` until it exits. */
  addChild(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  addDir(dir: string): void {
    this.dirs.add(dir);
  }

  /** Removes a tracked directory (recursively) and stops tracking it. */
  async removeDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  /** SIGKILLs every child still running (by PID), waits for them, removes every directory. */
  async abort(): Promise<void> {
    await Promise.all([...this.children].map(async (child) => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }));
    await Promise.all([...this.dirs].map((dir) => this.removeDir(dir)));
  }
}

/** Sends `signal` by PID (unless the child has exited) and waits, bounded, for the exit. */
async function stopChild(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid!, signal);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS); })]);
  clearTimeout(timer);
  if (late) {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
}

/** A single-member etcd on free loopback ports with a temp data directory. */
export class BenchEtcd {
  private constructor(
    readonly endpoint: string, private readonly child: ChildProcess, private readonly exited: Promise<void>,
    private readonly dataDir: string, private readonly resources: BenchResources,
  ) {}

  /** Starts etcd and resolves once it answers a put and a get (bounded). */
  static async start(resources: BenchResources): Promise<BenchEtcd> {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-etcd-'));
    resources.addDir(dataDir);
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const name = `sluice-bench-${randomBytes(4).toString('hex')}`;
    const child = spawn('etcd', [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${name}=${peerUrl}`, '--initial-cluster-state', 'new', '--log-level', 'warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    resources.addChild(child);
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-10_000); });
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`cannot run etcd (is it on PATH?): ${error.message}`))));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const etcd = new BenchEtcd(endpoint, child, exited, dataDir, resources);
    try {
      await Promise.race([etcd.waitUntilAnswering(exited), spawnFailed]);
    } catch (error) {
      await etcd.stop();
      throw new Error(`${(error as Error).message}\n${output}`);
    }
    return etcd;
  }

  /** A client of this etcd; the caller closes it. */
  client(): Etcd3 {
    return new Etcd3({ hosts: this.endpoint, dialTimeout: 2_000 });
  }

  /** SIGTERM (SIGKILL if late), then removes the data directory. */
  async stop(): Promise<void> {
    await stopChild(this.child, this.exited, 'SIGTERM');
    await this.resources.removeDir(this.dataDir);
  }

  private async waitUntilAnswering(exited: Promise<void>): Promise<void> {
    const client = this.client();
    let gone = false;
    void exited.then(() => { gone = true; });
    const deadlineMs = Date.now() + START_TIMEOUT_MS;
    let lastError: unknown = null;
    try {
      for (let attempt = 0; attempt < 300 && Date.now() < deadlineMs && !gone; attempt++) {
        try {
          await client.put('/bench-ready').value('1').options({ deadline: Date.now() + 1_000 });
          if (await client.get('/bench-ready').string() === '1') return;
        } catch (error) {
          lastError = error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`etcd at ${this.endpoint} did not answer within ${START_TIMEOUT_MS} ms${gone ? ' (it exited)' : ''}: ${String(lastError)}`);
    } finally {
      client.close();
    }
  }
}

/** One running `sluice broker --etcd` process; its interesting log lines are kept, parsed. */
export class BenchClusterBroker {
  readonly logLines: BrokerLogLine[] = [];
  private stderrTail = '';
  readonly exited: Promise<void>;

  private constructor(readonly brokerId: number, private readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.keep(line);
    });
    child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString()).slice(-10_000); });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts the broker and waits (bounded) for its "broker started" line. */
  static async start(brokerId: number, args: readonly string[], resources: BenchResources): Promise<BenchClusterBroker> {
    const child = spawn(process.execPath, [CLI_PATH, 'broker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    resources.addChild(child);
    const broker = new BenchClusterBroker(brokerId, child);
    try {
      await broker.waitForLog((line) => line.msg === 'broker started', START_TIMEOUT_MS);
    } catch (error) {
      await broker.stop('SIGKILL');
      throw error;
    }
    return broker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits (bounded) for a kept log line that `matches`; returns it. */
  async waitForLog(matches: (line: BrokerLogLine) => boolean, timeoutMs: number): Promise<BrokerLogLine> {
    const deadlineMs = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => { exited = true; });
    while (Date.now() < deadlineMs && !exited) {
      const found = this.logLines.find(matches);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const found = this.logLines.find(matches);
    if (found !== undefined) return found;
    throw new Error(`broker ${this.brokerId}: the awaited log line did not come within ${timeoutMs} ms${exited ? ' (it exited)' : ''}; stderr:\n${this.stderrTail}`);
  }

  /** Sends `signal` by PID and waits (bounded) for the exit. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    await stopChild(this.child, this.exited, signal);
  }

  private keep(line: string): void {
    if (!line.startsWith('{') || this.logLines.length >= LOG_LINES_MAX) return;
    try {
      const parsed = JSON.parse(line) as BrokerLogLine;
      if (LOG_MESSAGES_KEPT.has(parsed.msg)) this.logLines.push(parsed);
    } catch {
      // Not a log line of ours.
    }
  }
}

interface BrokerSlot {
  readonly brokerId: number;
  readonly port: number;
  readonly dataDir: string;
  broker: BenchClusterBroker | null;
}

/** etcd plus brokers 1..N. */
export class BenchCluster {
  private constructor(
    readonly etcd: BenchEtcd,
    private readonly slots: ReadonlyMap<number, BrokerSlot>,
    private readonly brokerSessionTimeoutMs: number,
    readonly dataDir: string,
    private readonly resources: BenchResources,
  ) {}

  /** Starts etcd and `brokerCount` brokers (ids 1..N) with the given lease TTL. */
  static async start(brokerCount: number, brokerSessionTimeoutMs: number, resources: BenchResources): Promise<BenchCluster> {
    const etcd = await BenchEtcd.start(resources);
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-cluster-'));
    resources.addDir(dataDir);
    const slots = new Map<number, BrokerSlot>();
    for (let brokerId = 1; brokerId <= brokerCount; brokerId++) {
      slots.set(brokerId, { brokerId, port: await freePort(), dataDir: join(dataDir, `broker-${brokerId}`), broker: null });
    }
    const cluster = new BenchCluster(etcd, slots, brokerSessionTimeoutMs, dataDir, resources);
    try {
      await Promise.all([...slots.keys()].map((brokerId) => cluster.startBroker(brokerId)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get brokerIds(): number[] {
    return [...this.slots.keys()];
  }

  /** Every broker's `ws://` URL, for clients' bootstrap list. */
  urls(): string[] {
    return this.brokerIds.map((brokerId) => `ws://127.0.0.1:${this.slot(brokerId).port}`);
  }

  /** The running broker `brokerId`; throws if it is not running. */
  broker(brokerId: number): BenchClusterBroker {
    const broker = this.slot(brokerId).broker;
    if (broker === null) throw new Error(`broker ${brokerId} is not running`);
    return broker;
  }

  /** The running brokers. */
  runningBrokers(): BenchClusterBroker[] {
    return [...this.slots.values()].flatMap((slot) => (slot.broker === null ? [] : [slot.broker]));
  }

  /** Starts a stopped broker on its port and data directory. */
  async startBroker(brokerId: number): Promise<void> {
    const slot = this.slot(brokerId);
    if (slot.broker !== null) throw new Error(`broker ${brokerId} is already running`);
    slot.broker = await BenchClusterBroker.start(brokerId, [
      '--etcd', this.etcd.endpoint, '--etcd-prefix', BENCH_ETCD_PREFIX, '--broker-id', String(brokerId),
      '--host', '127.0.0.1', '--port', String(slot.port), '--data-dir', slot.dataDir,
      '--broker-session-timeout-ms', String(this.brokerSessionTimeoutMs),
    ], this.resources);
  }

  /** SIGKILL by PID, as a crash; resolves once the process has exited. */
  async kill(brokerId: number): Promise<void> {
    const slot = this.slot(brokerId);
    const broker = slot.broker;
    if (broker === null) return;
    slot.broker = null;
    await broker.stop('SIGKILL');
  }

  /** Stops every broker (SIGTERM), then etcd, and removes the data directories. */
  async stop(): Promise<void> {
    await Promise.all([...this.slots.values()].map(async (slot) => {
      const broker = slot.broker;
      slot.broker = null;
      await broker?.stop('SIGTERM');
    }));
    await this.etcd.stop();
    await this.resources.removeDir(this.dataDir);
  }

  private slot(brokerId: number): BrokerSlot {
    const slot = this.slots.get(brokerId);
    if (slot === undefined) throw new Error(`no broker ${brokerId}`);
    return slot;
  }
}
