import { sendWindowed as sendWindowedCalls } from '../../common/windowed-sends.js';
import { Admin, Consumer, Producer, type Acks, type ProducerOptions, type ProducerRecord } from '../../../src/client/index.js';
import { nodeWebSocket } from '../../../src/client/node.js';
import { LatencyRecorder, type LatencySummaryMs } from '../../common/latency.js';
import { waitForIsr } from '../../cluster/partition-state.js';
import type {
  AckMeaning, ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams,
  SystemUnderTest, ThroughputFigures,
} from '../system.js';

/**
 * The comparison's workloads against a running Sluice (one broker or a cluster), driven only
 * through the public client: Producer, Consumer and Admin over WebSocket. The standalone and the
 * dev-cluster systems differ only in where the brokers are, the replication factor and acks.
 */

/** Where the brokers are and how records are to be acknowledged. */
export interface SluiceTarget {
  readonly brokerUrls: readonly string[];
  readonly acks: Acks;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

const CLIENT_ID = 'bench-compare';
/**
 * Throughput producer: the producer's default batchBytes (256 KiB), so the 1,000-record window
 * (~110 KB) goes as one batch per round; lingerMs 0 seals it on the next turn of the event loop.
 * Smaller batches pipeline more of the window but cost more per record on both sides (docs/
 * performance.md: 32 KiB batches ran at 0.71× this rate, interleaved). Every record is still
 * acknowledged on its own promise.
 */
const THROUGHPUT_PRODUCER: Pick<ProducerOptions, 'lingerMs'> = { lingerMs: 0 };
/** One record per request, sent at once. */
const LATENCY_PRODUCER: Pick<ProducerOptions, 'lingerMs'> = { lingerMs: 0 };
/** Longest wait for a new topic's leader (and, with RF 3, its full ISR). */
const TOPIC_READY_MS_MAX = 60_000;
/** Time the end-to-end consumer may lag past the last intended send before the run fails. */
const END_TO_END_DRAIN_MS_MAX = 30_000;
/** Longest a consume run may take, whatever its size. */
const CONSUME_MS_MAX = 600_000;

/** The workloads of system.ts for one Sluice target. */
export class SluiceWorkloads {
  private constructor(private readonly target: SluiceTarget, private readonly admin: Admin) {}

  /** Connects an Admin to the target; `close()` releases it. */
  static async connect(target: SluiceTarget): Promise<SluiceWorkloads> {
    const admin = new Admin({ ...clientOptions(target), clientId: `${CLIENT_ID}-admin` });
    await admin.connect();
    return new SluiceWorkloads(target, admin);
  }

  close(): void {
    this.admin.close();
  }

  /** A topic of `partitions` partitions at the target's replication factor, ready to take records. */
  async createStream(stream: string, partitions: number): Promise<void> {
    const { replicationFactor, minInsyncReplicas } = this.target;
    await this.admin.createTopic(stream, partitions, replicationFactor, { minInsyncReplicas });
    await waitForIsr(this.admin, stream, replicationFactor, TOPIC_READY_MS_MAX);
  }

  async dropStream(stream: string): Promise<void> {
    await this.admin.deleteTopic(stream);
  }

  /** (a) */
  async produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures> {
    const producer = await this.producer(THROUGHPUT_PRODUCER);
    try {
      const value = valueOf(params.valueBytes);
      const started = performance.now();
      await sendWindowed(producer, params.records, params.inFlight, () => ({ topic: params.stream, value }));
      return { records: params.records, seconds: (performance.now() - started) / 1000 };
    } finally {
      await producer.close();
    }
  }

  /** (b) */
  async produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs> {
    const producer = await this.producer(LATENCY_PRODUCER);
    try {
      const value = valueOf(params.valueBytes);
      const latency = new LatencyRecorder();
      for (let i = 0; i < params.records; i++) {
        const sentMs = performance.now();
        await producer.send({ topic: params.stream, value });
        latency.recordMs(performance.now() - sentMs);
      }
      return latency.summary();
    } finally {
      await producer.close();
    }
  }

  /** (c) batches(): a pushed chunk of records per await (CRC check and decode of every record included). */
  async consumeAll(params: ConsumeParams): Promise<ThroughputFigures> {
    const consumer = new Consumer({ ...clientOptions(this.target), from: 'earliest' });
    try {
      const started = performance.now();
      await consumer.subscribe([params.stream], 'earliest');
      let count = 0;
      if (params.records > 0) {
        for await (const batch of consumer.batches({ signal: AbortSignal.timeout(CONSUME_MS_MAX) })) {
          count += batch.records.length;
          if (count >= params.records) break;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      if (count < params.records) throw new Error(`consumed ${count} of ${params.records} records within ${CONSUME_MS_MAX} ms`);
      return { records: count, seconds };
    } finally {
      await consumer.close();
    }
  }

  /**
   * (d) Sends on a fixed schedule and measures from each record's intended send time to its
   * receipt by the consumer, so a stall counts against every record it delayed.
   */
  async endToEnd(params: EndToEndParams): Promise<LatencySummaryMs> {
    const consumer = new Consumer({ ...clientOptions(this.target), from: 'latest' });
    const producer = await this.producer(LATENCY_PRODUCER);
    try {
      await consumer.subscribe([params.stream], 'latest');
      const total = Math.round(params.ratePerSecond * params.seconds);
      const latency = new LatencyRecorder();
      const received = receiveTimestamps(consumer, total, latency, params.seconds * 1000 + END_TO_END_DRAIN_MS_MAX);
      // Awaited below; until then a failure must not surface as an unhandled rejection.
      received.catch(() => undefined);
      const started = performance.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        const intendedMs = started + (i * 1000) / params.ratePerSecond;
        const waitMs = intendedMs - performance.now();
        if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
        sends.push(producer.send({ topic: params.stream, value: intendedMs.toFixed(3).padEnd(params.valueBytes, ' ') }));
      }
      await Promise.all(sends);
      const count = await received;
      if (count < total) throw new Error(`received ${count} of ${total} records`);
      return latency.summary();
    } finally {
      await producer.close();
      await consumer.close();
    }
  }

  /** (e) one Producer (own connection) per partition, each with its own window. */
  async produceParallel(params: ParallelProduceParams): Promise<ThroughputFigures> {
    const producers = await Promise.all(Array.from({ length: params.producers }, () => this.producer(THROUGHPUT_PRODUCER)));
    try {
      const value = valueOf(params.valueBytes);
      const perProducer = Math.floor(params.records / params.producers);
      const started = performance.now();
      await Promise.all(producers.map((producer, partition) => sendWindowed(
        producer, perProducer, params.inFlight, () => ({ topic: params.stream, partition, value }),
      )));
      return { records: perProducer * params.producers, seconds: (performance.now() - started) / 1000 };
    } finally {
      await Promise.all(producers.map((producer) => producer.close()));
    }
  }

  private async producer(settings: Pick<ProducerOptions, 'lingerMs' | 'batchBytes'>): Promise<Producer> {
    const producer = new Producer({ ...clientOptions(this.target), ...settings, acks: this.target.acks });
    await producer.connect();
    return producer;
  }
}

/**
 * A Sluice system of the comparison: subclasses start and stop the processes and set
 * `workloads` once the brokers answer; every workload goes to it.
 */
export abstract class SluiceSystem implements SystemUnderTest {
  abstract readonly name: string;
  abstract readonly client: string;
  abstract readonly server: string;
  abstract readonly replicas: number;
  readonly shapeNote = 'one topic of 8 partitions, one producer per partition';
  protected workloads: SluiceWorkloads | null = null;

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract serverPids(): readonly number[];
  abstract ackMeaning(): AckMeaning;

  createStream(stream: string, partitions: number): Promise<void> { return this.running().createStream(stream, partitions); }
  dropStream(stream: string): Promise<void> { return this.running().dropStream(stream); }
  produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures> { return this.running().produceThroughput(params); }
  produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs> { return this.running().produceSequential(params); }
  consumeAll(params: ConsumeParams): Promise<ThroughputFigures> { return this.running().consumeAll(params); }
  endToEnd(params: EndToEndParams): Promise<LatencySummaryMs> { return this.running().endToEnd(params); }
  produceParallel(params: ParallelProduceParams): Promise<ThroughputFigures> { return this.running().produceParallel(params); }

  private running(): SluiceWorkloads {
    if (this.workloads === null) throw new Error(`${this.name} is not started`);
    return this.workloads;
  }
}

function clientOptions(target: SluiceTarget): { brokers: string[]; webSocketFactory: typeof nodeWebSocket; clientId: string } {
  return { brokers: [...target.brokerUrls], webSocketFactory: nodeWebSocket, clientId: CLIENT_ID };
}

function valueOf(valueBytes: number): string {
  return 'v'.repeat(valueBytes);
}

/** Sends `count` records with at most `inFlight` unacknowledged, flushes, then waits for every ack. */
function sendWindowed(producer: Producer, count: number, inFlight: number, recordAt: (index: number) => ProducerRecord): Promise<void> {
  return sendWindowedCalls(count, inFlight, (index) => producer.send(recordAt(index)), () => producer.flush());
}

// Reads `total` records whose values carry their intended send time (performance.now() ms) and
// records each one's latency; resolves with the count received when done or out of time.
async function receiveTimestamps(consumer: Consumer, total: number, latency: LatencyRecorder, timeoutMs: number): Promise<number> {
  const decoder = new TextDecoder();
  let count = 0;
  for await (const record of consumer.records({ signal: AbortSignal.timeout(timeoutMs) })) {
    latency.recordMs(performance.now() - Number.parseFloat(decoder.decode(record.value!)));
    count += 1;
    if (count >= total) break;
  }
  return count;
}
