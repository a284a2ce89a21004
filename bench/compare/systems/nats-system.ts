import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import type { LatencySummaryMs } from '../../common/latency.js';
import type {
  AckMeaning, ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams,
  SystemUnderTest, ThroughputFigures,
} from '../system.js';
import { tcpConnector, webSocketConnector } from './nats-connectors.js';
import { NatsDeployment } from './nats-servers.js';
import * as workloads from './nats-workloads.js';

/** What distinguishes one NATS row of the table from another. */
export interface NatsSystemOptions {
  readonly name: string;
  readonly binary: string;
  /** e.g. "nats-server 2.9.10". */
  readonly server: string;
  readonly nodeCount: 1 | 3;
  readonly transport: 'tcp' | 'websocket';
  readonly syncAlways: boolean;
  readonly ackMeaning: AckMeaning;
}

const CLIENT_VERSIONS = { tcp: 'nats 2.29.3', websocket: 'nats.ws 1.30.3' } as const;
const ADMIN_TIMEOUT_MS = 10_000;

/**
 * JetStream as a system under test: its server(s) (NatsDeployment), an admin connection for
 * streams, and the workloads (nats-workloads.ts) driven through the row's client. One JetStream
 * stream per partition: JetStream orders and stores each stream through one leader, so a NATS
 * user who wants N independently written partitions makes N streams.
 */
export class NatsSystem implements SystemUnderTest {
  readonly client: string;
  readonly replicas: number;
  readonly shapeNote = 'one JetStream stream per partition, each with its own producer connection';
  private deployment: NatsDeployment | null = null;
  private admin: NatsConnection | null = null;
  /** Partition count of each bench stream this system created, by the harness's name. */
  private readonly partitionsByStream = new Map<string, number>();

  constructor(private readonly options: NatsSystemOptions) {
    this.client = CLIENT_VERSIONS[options.transport];
    this.replicas = options.nodeCount;
  }

  get name(): string { return this.options.name; }
  get server(): string { return this.options.server; }

  async start(): Promise<void> {
    if (this.deployment !== null) throw new Error(`${this.name} is already started`);
    const { binary, nodeCount, syncAlways } = this.options;
    this.deployment = await NatsDeployment.start({ binary, nodeCount, syncAlways, webSocket: this.options.transport === 'websocket' });
    try {
      this.admin = await connect({ servers: this.deployment.clientServers(), reconnect: false, timeout: ADMIN_TIMEOUT_MS });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.admin?.close();
    this.admin = null;
    await this.deployment?.stop();
    this.deployment = null;
    this.partitionsByStream.clear();
  }

  serverPids(): readonly number[] {
    return this.deployment?.pids() ?? [];
  }

  ackMeaning(): AckMeaning {
    return this.options.ackMeaning;
  }

  async createStream(stream: string, partitions: number): Promise<void> {
    const jsm = await this.requireAdmin().jetstreamManager({ timeout: ADMIN_TIMEOUT_MS });
    for (const name of partitionStreams(stream, partitions)) {
      await jsm.streams.add({
        name, subjects: [name], storage: StorageType.File, num_replicas: this.replicas, retention: RetentionPolicy.Limits,
      });
    }
    this.partitionsByStream.set(stream, partitions);
  }

  async dropStream(stream: string): Promise<void> {
    const partitions = this.partitionsByStream.get(stream);
    if (partitions === undefined) return;
    const jsm = await this.requireAdmin().jetstreamManager({ timeout: ADMIN_TIMEOUT_MS });
    for (const name of partitionStreams(stream, partitions)) await jsm.streams.delete(name);
    this.partitionsByStream.delete(stream);
  }

  async produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures> {
    const [name] = await this.ensureStreams(params.stream, 1);
    const figures = await workloads.produceThroughput(this.connector(), name!, params.records, params.inFlight, params.valueBytes);
    await this.assertStored(name!, params.records);
    return figures;
  }

  async produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs> {
    const [name] = await this.ensureStreams(params.stream, 1);
    return workloads.produceSequential(this.connector(), name!, params.records, params.valueBytes);
  }

  async consumeAll(params: ConsumeParams): Promise<ThroughputFigures> {
    const [name] = partitionStreams(params.stream, 1);
    return workloads.consumeAll(this.connector(), name!, params.records);
  }

  async endToEnd(params: EndToEndParams): Promise<LatencySummaryMs> {
    const [name] = await this.ensureStreams(params.stream, 1);
    return workloads.endToEnd(this.connector(), name!, params.ratePerSecond, params.seconds, params.valueBytes);
  }

  async produceParallel(params: ParallelProduceParams): Promise<ThroughputFigures> {
    const names = await this.ensureStreams(params.stream, params.producers);
    const figures = await workloads.produceParallel(this.connector(), names, params.records, params.inFlight, params.valueBytes);
    let stored = 0;
    for (const name of names) stored += await this.storedRecords(name);
    if (stored !== params.records) throw new Error(`${this.name}: ${stored} records stored in ${params.stream}, ${params.records} acknowledged`);
    return figures;
  }

  // The harness may or may not call createStream first; either way the workload gets its streams.
  private async ensureStreams(stream: string, partitions: number): Promise<string[]> {
    const known = this.partitionsByStream.get(stream);
    if (known === undefined) await this.createStream(stream, partitions);
    else if (known !== partitions) throw new Error(`${this.name}: stream ${stream} has ${known} partitions, the workload needs ${partitions}`);
    return partitionStreams(stream, partitions);
  }

  private async assertStored(name: string, records: number): Promise<void> {
    const stored = await this.storedRecords(name);
    if (stored !== records) throw new Error(`${this.name}: ${stored} records stored in ${name}, ${records} acknowledged`);
  }

  private async storedRecords(name: string): Promise<number> {
    const jsm = await this.requireAdmin().jetstreamManager({ timeout: ADMIN_TIMEOUT_MS });
    return (await jsm.streams.info(name)).state.messages;
  }

  private connector(): workloads.NatsConnector {
    const deployment = this.requireDeployment();
    if (this.options.transport === 'tcp') return tcpConnector(deployment.clientServers());
    if (deployment.webSocketPort === null) throw new Error(`${this.name}: no WebSocket listener`);
    return webSocketConnector(deployment.webSocketPort);
  }

  private requireDeployment(): NatsDeployment {
    if (this.deployment === null) throw new Error(`${this.name} is not started`);
    return this.deployment;
  }

  private requireAdmin(): NatsConnection {
    if (this.admin === null) throw new Error(`${this.name} is not started`);
    return this.admin;
  }
}

/**
 * JetStream stream names (which are also their subjects) for a harness stream name: the name
 * itself for one partition, `<name>-p<i>` for several. Characters JetStream forbids in a stream
 * name (`.`, `*`, `>`, whitespace, path separators) become `_`.
 */
export function partitionStreams(stream: string, partitions: number): string[] {
  const base = stream.replace(/[^A-Za-z0-9_-]/g, '_');
  if (partitions === 1) return [base];
  return Array.from({ length: partitions }, (_, index) => `${base}-p${index}`);
}
