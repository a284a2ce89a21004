import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiKey, type MetadataResponse } from '../../src/protocol/index.js';
import { freePort, startEtcd, stoppedState, type EtcdProcess } from './etcd.js';
import { CliProcess, runCli } from './process.js';
import { makeTempDir } from './storage.js';
import { WireClient } from './wire-client.js';

/** How a test cluster is started; every timing is short so that faults resolve within a test. */
export interface TestClusterOptions {
  readonly brokers: number;
  readonly brokerSessionTimeoutMs?: number;
  readonly replicaLagTimeMaxMs?: number;
  /** More `sluice broker` flags for every broker. */
  readonly extraArgs?: readonly string[];
}

interface BrokerSlot {
  readonly id: number;
  readonly port: number;
  readonly dataDir: string;
  process: CliProcess | null;
  /** Log lines of the earlier runs of this broker. */
  pastLines: string[];
}

const READY_TIMEOUT_MS = 30_000;

/** A full Metadata response (not header-only). */
export type ClusterMetadata = Exclude<MetadataResponse, { headerOnly: true }>;

/** One batch as `dump-log --json` prints it, without its position (which may differ between replicas). */
export interface DumpedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly recordCount: number;
  readonly sizeBytes: number;
  readonly partitionLeaderEpoch: number;
  readonly producerId: string | null;
  readonly baseSequence: number | null;
  readonly crc: number;
  readonly crcOk: boolean;
}

/** One record as `dump-log --records --json` prints it. */
export interface DumpedRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

/**
 * A real cluster on 127.0.0.1: one etcd and N `sluice broker --etcd` processes, each with a
 * fixed free port (kept across restarts, so clients' bootstrap URLs stay valid) and its own data
 * directory. Brokers are killed, paused and stopped by PID.
 */
export class TestCluster {
  private constructor(
    readonly etcd: EtcdProcess,
    private readonly slots: Map<number, BrokerSlot>,
    private readonly options: TestClusterOptions,
    private readonly cleanupDirs: () => Promise<void>,
  ) {}

  /** Starts etcd and the brokers (ids 1..N), and waits until every broker sees all of them. */
  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const etcd = await startEtcd();
    const { dir, cleanup } = await makeTempDir('sluice-cluster-');
    const slots = new Map<number, BrokerSlot>();
    for (let id = 1; id <= options.brokers; id++) slots.set(id, { id, port: await freePort(), dataDir: join(dir, `broker-${id}`), process: null, pastLines: [] });
    const cluster = new TestCluster(etcd, slots, options, cleanup);
    try {
      await Promise.all([...slots.keys()].map((id) => cluster.startBroker(id)));
      await cluster.waitForBrokers(options.brokers);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Broker ids, ascending. */
  get brokerIds(): number[] {
    return [...this.slots.keys()];
  }

  /** `ws://127.0.0.1:<port>` of a broker. */
  url(id: number): string {
    return `ws://127.0.0.1:${this.slot(id).port}`;
  }

  /** Every broker's URL, for clients' bootstrap list. */
  urls(): string[] {
    return this.brokerIds.map((id) => this.url(id));
  }

  port(id: number): number {
    return this.slot(id).port;
  }

  dataDir(id: number): string {
    return this.slot(id).dataDir;
  }

  /** The broker's process while it runs. */
  process(id: number): CliProcess {
    const process = this.slot(id).process;
    if (process === null) throw new Error(`broker ${id} is not running`);
    return process;
  }

  isRunning(id: number): boolean {
    return this.slot(id).process !== null;
  }

  /** Starts a broker that is not running, on its port and data directory. */
  async startBroker(id: number): Promise<void> {
    const slot = this.slot(id);
    if (slot.process !== null) throw new Error(`broker ${id} is already running`);
    slot.process = CliProcess.start([
      'broker', '--etcd', this.etcd.endpoint, '--etcd-prefix', '/test', '--broker-id', String(id), '--port', String(slot.port), '--data-dir', slot.dataDir,
      '--broker-session-timeout-ms', String(this.options.brokerSessionTimeoutMs ?? 2_000),
      '--replica-lag-time-max-ms', String(this.options.replicaLagTimeMaxMs ?? 3_000),
      '--offsets-topic-partition-count', '4',
      ...(this.options.extraArgs ?? []),
    ]);
    await slot.process.waitForLog('broker started', READY_TIMEOUT_MS);
  }

  /** Creates a topic through CreateTopics on a running broker, with its minInsyncReplicas (broker default when absent). */
  async createTopic(name: string, partitionCount: number, replicationFactor: number, config: { readonly minInsyncReplicas?: number } = {}): Promise<void> {
    const id = this.brokerIds.find((candidate) => this.isRunning(candidate));
    if (id === undefined) throw new Error('no broker is running');
    const client = await WireClient.ready(this.port(id));
    try {
      const response = await client.request(ApiKey.CreateTopics, { topics: [{ name, partitionCount, replicationFactor, ...(config.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: config.minInsyncReplicas }) }] });
      if (response.headerOnly) throw new Error(`CreateTopics refused: ${response.errorCode}`);
      const result = response.results[0]!;
      if (result.errorCode !== 0) throw new Error(`CreateTopics of ${name}: ${result.errorCode} ${result.errorMessage ?? ''}`);
    } finally {
      client.close();
    }
  }

  /** Metadata of `topics` (all when null) from a running broker (`from`, or the first running one). */
  async metadata(topics: string[] | null, from?: number): Promise<ClusterMetadata> {
    const id = from ?? this.brokerIds.find((candidate) => this.isRunning(candidate));
    if (id === undefined) throw new Error('no broker is running');
    const client = await WireClient.ready(this.port(id));
    try {
      const response = await client.request(ApiKey.Metadata, { allTopics: topics === null, topics: topics ?? [] });
      if (response.headerOnly) throw new Error(`metadata refused: ${response.errorCode}`);
      return response;
    } finally {
      client.close();
    }
  }

  /** Polls `probe` every 100 ms until it returns a value other than undefined; throws with `what` after `timeoutMs`. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = READY_TIMEOUT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown = null;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === null ? '' : ` (last error: ${String(lastError)})`}`);
  }

  /** The batches of one replica's log on disk (`dump-log --json --verify`; the broker should be stopped). */
  async dumpBatches(id: number, topic: string, partition: number): Promise<DumpedBatch[]> {
    const { code, stdout, stderr } = await runCli(['dump-log', '--json', '--verify', join(this.dataDir(id), `${topic}-${partition}`)]);
    if (code !== 0) throw new Error(`dump-log of broker ${id} ${topic}-${partition} failed (${code}): ${stdout.slice(-2_000)} ${stderr}`);
    return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['baseOffset'] !== undefined)
      .map(({ baseOffset, lastOffset, recordCount, sizeBytes, partitionLeaderEpoch, producerId, baseSequence, crc, crcOk }) => ({ baseOffset, lastOffset, recordCount, sizeBytes, partitionLeaderEpoch, producerId, baseSequence, crc, crcOk }) as DumpedBatch);
  }

  /** The records of one replica's log on disk (`dump-log --records --json`; the broker should be stopped). */
  async dumpRecords(id: number, topic: string, partition: number): Promise<DumpedRecord[]> {
    const { code, stdout, stderr } = await runCli(['dump-log', '--json', '--verify', '--records', join(this.dataDir(id), `${topic}-${partition}`)], 120_000);
    if (code !== 0) throw new Error(`dump-log of broker ${id} ${topic}-${partition} failed (${code}): ${stdout.slice(-2_000)} ${stderr}`);
    return stdout.trim().split('\n').map((line) => JSON.parse(line) as { record?: DumpedRecord })
      .filter((entry) => entry.record !== undefined).map((entry) => entry.record!);
  }

  /** Writes every broker's log lines (all runs of it) to `dir`/broker-<id>.log, for diagnosing a failure. */
  async saveLogs(dir: string): Promise<void> {
    for (const slot of this.slots.values()) {
      const lines = [...slot.pastLines, ...(slot.process?.lines ?? [])];
      await writeFile(join(dir, `broker-${slot.id}.log`), lines.join('\n'));
    }
  }

  /** How many log lines at `level` or above (pino: 40 warn, 50 error) each message has, over every run of every broker. */
  logCounts(level: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const slot of this.slots.values()) {
      for (const line of [...slot.pastLines, ...(slot.process?.lines ?? [])]) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { level?: number; msg?: string };
        if ((parsed.level ?? 0) >= level) counts[parsed.msg ?? '?'] = (counts[parsed.msg ?? '?'] ?? 0) + 1;
      }
    }
    return counts;
  }

  /** SIGKILL, as a crash: nothing is flushed or closed. */
  async kill(id: number): Promise<void> {
    const slot = this.slot(id);
    if (slot.process === null) return;
    await slot.process.stop('SIGKILL');
    slot.pastLines.push(...slot.process.lines, `--- killed (SIGKILL) ---`);
    slot.process = null;
  }

  /** SIGTERM: a clean stop, checkpoints written. */
  async stopBroker(id: number): Promise<void> {
    const slot = this.slot(id);
    if (slot.process === null) return;
    await slot.process.stop('SIGTERM');
    slot.pastLines.push(...slot.process.lines, `--- stopped (SIGTERM) ---`);
    slot.process = null;
  }

  /** SIGSTOP: the broker keeps its sockets but answers nothing (a hung or partitioned broker). */
  async pause(id: number): Promise<void> {
    process.kill(this.process(id).pid, 'SIGSTOP');
    await stoppedState(this.process(id).pid);
  }

  /** SIGCONT after `pause`. */
  resume(id: number): void {
    process.kill(this.process(id).pid, 'SIGCONT');
  }

  /** Waits (bounded) until a running broker's Metadata lists `count` live brokers. */
  async waitForBrokers(count: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (Date.now() < deadline) {
      const id = this.brokerIds.find((candidate) => this.isRunning(candidate));
      if (id === undefined) throw new Error('no broker is running');
      try {
        const client = await WireClient.ready(this.port(id));
        try {
          const metadata = await client.request(ApiKey.Metadata, { allTopics: true, topics: [] });
          if (!metadata.headerOnly) seen = metadata.brokers.length;
          if (seen === count) return;
        } finally {
          client.close();
        }
      } catch {
        // Not up yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the cluster did not list ${count} brokers within ${timeoutMs} ms (last seen ${seen})`);
  }

  /** Stops every broker (SIGKILL for paused ones), etcd, and removes the data directories. */
  async stop(): Promise<void> {
    for (const slot of this.slots.values()) {
      if (slot.process === null) continue;
      try {
        process.kill(slot.process.pid, 'SIGCONT');
        await slot.process.stop('SIGTERM', 10_000);
      } catch {
        await slot.process.stop('SIGKILL').catch(() => null);
      }
      slot.process = null;
    }
    await this.etcd.stop();
    await this.cleanupDirs();
  }

  private slot(id: number): BrokerSlot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`no broker ${id}`);
    return slot;
  }
}
