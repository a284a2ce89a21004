import type { LatencySummaryMs } from '../common/latency.js';

/**
 * The contract every system in the comparison meets: Sluice (standalone and dev-cluster) and
 * each peer (NATS JetStream, Redis Streams, RabbitMQ streams), each driven through its own
 * official Node client. The harness (main.ts) starts a system, runs every workload it offers
 * a few times, and stops it by PID; the figures go through the same code for every system.
 *
 * A "stream" is the system's unit of storage: a Sluice topic, a JetStream stream, a Redis
 * stream key, a RabbitMQ stream. Workloads that need several (8 producers on 8 partitions) use
 * the system's natural shape for it and say so in `shapeNote`.
 */

/** Throughput of one run. MB are 10^6 bytes of record values. */
export interface ThroughputFigures {
  readonly records: number;
  readonly seconds: number;
}

/** What the server's acknowledgement meant, checked (not assumed) where possible. */
export interface AckMeaning {
  /** True when an ack is sent only after the record is fsynced/fdatasynced on the server. */
  readonly fsynced: boolean;
  /** One line for the table: e.g. "fdatasync before ack (group commit)", "page cache (fsync every 2 min)". */
  readonly description: string;
  /**
   * How it was checked: e.g. "strace -f -e fsync,fdatasync: 1,013 calls for 1,000 sequential
   * acks", or "documented; not traced". Filled by the harness's check where the system allows it.
   */
  readonly evidence: string;
}

/** Parameters shared by the workloads (the harness fixes them; systems must not change them). */
export interface WorkloadParams {
  /** Bytes of each record's value (100 in the issue). */
  readonly valueBytes: number;
}

export interface ProduceThroughputParams extends WorkloadParams {
  readonly stream: string;
  readonly records: number;
  /** Records sent and not yet acknowledged, at most (1,000 in the issue). */
  readonly inFlight: number;
}

export interface SequentialProduceParams extends WorkloadParams {
  readonly stream: string;
  /** Records sent one at a time, each awaited before the next. */
  readonly records: number;
}

export interface ConsumeParams {
  /** A stream previously filled by produceThroughput with `records` records. */
  readonly stream: string;
  readonly records: number;
}

export interface EndToEndParams extends WorkloadParams {
  readonly stream: string;
  readonly ratePerSecond: number;
  readonly seconds: number;
}

export interface ParallelProduceParams extends WorkloadParams {
  /** One producer (own client connection) per stream/partition. */
  readonly producers: number;
  readonly stream: string;
  /** Records in all, split evenly between the producers. */
  readonly records: number;
  /** In flight per producer. */
  readonly inFlight: number;
}

/**
 * One system under test. `start` brings its server(s) up on 127.0.0.1 with state in a temp dir;
 * `stop` stops them by PID and removes the temp dir. Each workload method creates the stream(s)
 * it is given (fresh names per run, chosen by the harness) and `dropStream` deletes them after.
 */
export interface SystemUnderTest {
  /** Row label, e.g. "NATS JetStream R1 (file)". */
  readonly name: string;
  /** Official client and its version, e.g. "nats 2.29.3". */
  readonly client: string;
  /** Server and version, e.g. "nats-server 2.9.10". */
  readonly server: string;
  /** Replicas each record is stored on (1 or 3). */
  readonly replicas: number;
  /** How the system maps "N partitions" (e.g. "8 streams, one per producer"). */
  readonly shapeNote: string;

  start(): Promise<void>;
  stop(): Promise<void>;
  /** PIDs of the server processes (RSS is sampled from /proc; strace attaches to them). */
  serverPids(): readonly number[];
  /** What an ack means; may be refined by the harness's strace check. */
  ackMeaning(): AckMeaning;

  createStream(stream: string, partitions: number): Promise<void>;
  dropStream(stream: string): Promise<void>;

  /** (a) one producer, `inFlight` records unacknowledged at most, until all are acknowledged. */
  produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures>;
  /** (b) one record at a time; latency of each send→ack. */
  produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs>;
  /** (c) one consumer reading the whole stream from the start. */
  consumeAll(params: ConsumeParams): Promise<ThroughputFigures>;
  /** (d) produce at a fixed rate while one consumer reads; latency from intended send time to receipt. */
  endToEnd(params: EndToEndParams): Promise<LatencySummaryMs>;
  /** (e) `producers` producers in parallel, one per partition/stream. Absent when the system has no such shape. */
  produceParallel?(params: ParallelProduceParams): Promise<ThroughputFigures>;
}
