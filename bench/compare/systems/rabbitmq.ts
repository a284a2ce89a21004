import type { LatencySummaryMs } from '../../common/latency.js';
import type {
  AckMeaning, ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams,
  SystemUnderTest, ThroughputFigures,
} from '../system.js';
import { connectStreamClient, connectStreamClientWhenReady } from './rabbitmq-client.js';
import { RABBITMQ_SERVER_SCRIPT, RabbitMqNode, rabbitmqServerInstalled } from './rabbitmq-server.js';
import * as workloads from './rabbitmq-workloads.js';

/**
 * RabbitMQ streams as a peer: one RabbitMQ 3.10.8 node (Debian's) with the stream plugin. A
 * stream is a RabbitMQ stream; N partitions are N streams (`<stream>.<i>`), each with its own
 * publisher on its own connection (super streams need 3.11).
 */

const CLIENT = 'rabbitmq-stream-js-client 1.0.0';
const SERVER = 'rabbitmq-server 3.10.8 (Erlang 25), stream plugin';

/**
 * Traced on this machine (2026-11-23) with `strace -f -qq -y -e trace=fsync,fdatasync -p
 * <beam.smp pid>` (-y names each fd's file): the stream's segment and index files are never
 * synced; the few calls seen are the stream coordinator's Ra WAL, DETS metadata and the log.
 */
const ACK_MEANING: AckMeaning = {
  fsynced: false,
  description: 'page cache: the stream writer (osiris) confirms once the chunk is written, with no fsync of the segment',
  evidence: 'strace -f -y -e fsync,fdatasync on beam.smp: no sync of any stream segment/index file during 1,000 sequential confirmed publishes '
    + '(4 calls: Ra coordinator WAL, DETS metadata, log file) nor 20,000 with 1,000 in flight (1 call: DETS)',
};

/** The RabbitMQ streams system, or none (with one line logged) when the server script is missing. */
export async function rabbitmqSystems(log: (line: string) => void): Promise<SystemUnderTest[]> {
  if (!(await rabbitmqServerInstalled())) {
    log(`skipping RabbitMQ streams: ${RABBITMQ_SERVER_SCRIPT} not found`);
    return [];
  }
  return [new RabbitMqStreamsSystem()];
}

/** One RabbitMQ node driven through the stream protocol client. */
class RabbitMqStreamsSystem implements SystemUnderTest {
  readonly name = 'RabbitMQ streams (1 node)';
  readonly client = CLIENT;
  readonly server = SERVER;
  readonly replicas = 1;
  readonly shapeNote = 'N streams, one per producer (each publisher on its own connection); one node';
  private node: RabbitMqNode | null = null;
  private readonly partitionsByStream = new Map<string, number>();

  async start(): Promise<void> {
    if (this.node !== null) throw new Error(`${this.name} is already started`);
    const node = await RabbitMqNode.start();
    try {
      const client = await connectStreamClientWhenReady(node.ports.stream);
      await client.close();
    } catch (error) {
      await node.stop();
      throw new Error(`${this.name}: ${String(error)}\n${node.output}`);
    }
    this.node = node;
  }

  async stop(): Promise<void> {
    const node = this.node;
    this.node = null;
    await node?.stop();
  }

  serverPids(): readonly number[] {
    return this.node === null ? [] : [this.node.beamPid];
  }

  ackMeaning(): AckMeaning {
    return ACK_MEANING;
  }

  async createStream(stream: string, partitions: number): Promise<void> {
    const client = await this.connect();
    try {
      for (const name of this.streamsOf(stream, partitions)) await client.createStream({ stream: name, arguments: {} });
      this.partitionsByStream.set(stream, partitions);
    } finally {
      await client.close();
    }
  }

  async dropStream(stream: string): Promise<void> {
    const client = await this.connect();
    try {
      for (const name of this.streamsOf(stream, this.partitionsByStream.get(stream) ?? 1)) await client.deleteStream({ stream: name });
    } finally {
      this.partitionsByStream.delete(stream);
      await client.close();
    }
  }

  produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures> {
    return workloads.produceThroughput(this.connect, params);
  }

  produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs> {
    return workloads.produceSequential(this.connect, params);
  }

  consumeAll(params: ConsumeParams): Promise<ThroughputFigures> {
    return workloads.consumeAll(this.connect, params);
  }

  endToEnd(params: EndToEndParams): Promise<LatencySummaryMs> {
    return workloads.endToEnd(this.connect, params);
  }

  async produceParallel(params: ParallelProduceParams): Promise<ThroughputFigures> {
    const partitions = this.partitionsByStream.get(params.stream);
    if (partitions !== params.producers) throw new Error(`${this.name}: stream ${params.stream} was created with ${partitions ?? 'no'} partitions, not ${params.producers}`);
    return workloads.produceParallel(this.connect, params, this.streamsOf(params.stream, params.producers));
  }

  private readonly connect: workloads.StreamConnect = async () => {
    if (this.node === null) throw new Error(`${this.name} is not started`);
    return connectStreamClient(this.node.ports.stream);
  };

  // One partition is the stream itself; N are N streams named after it.
  private streamsOf(stream: string, partitions: number): string[] {
    if (partitions === 1) return [stream];
    return Array.from({ length: partitions }, (_, i) => `${stream}.${i}`);
  }
}
