import { Admin, Producer, type ConnectionOptions, type ProducerOptions } from '../../src/client/index.js';
import { sendAll } from './send-loop.js';

/** Throughput of one produce run. */
export interface SpreadRun {
  readonly partitions: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

/** What the comparison sends. */
export interface SpreadOptions {
  readonly connection: ConnectionOptions;
  readonly producerSettings: Partial<ProducerOptions>;
  readonly recordCount: number;
  readonly valueBytes: number;
  readonly inFlightSendsMax: number;
  /** Partition counts compared, e.g. [1, 100]; runs alternate between them. */
  readonly partitionCounts: readonly number[];
  readonly runsPerCount: number;
  readonly progress: (line: string) => void;
}

/**
 * Produce throughput as the partition count grows: the same records from one producer, with
 * explicit partitions round-robin over N partitions of a fresh topic per run. Runs alternate
 * between the counts, so that drift on a shared machine falls on both.
 */
export async function measurePartitionSpread(options: SpreadOptions): Promise<SpreadRun[]> {
  const runs: SpreadRun[] = [];
  const admin = new Admin(options.connection);
  await admin.connect();
  try {
    for (let round = 0; round < options.runsPerCount; round++) {
      for (const partitions of options.partitionCounts) {
        const topic = `spread-${partitions}-${round}`;
        await admin.createTopic(topic, partitions);
        runs.push(await produceRun(options, topic, partitions));
        const last = runs.at(-1)!;
        options.progress(`spread: ${partitions} partition(s), round ${round + 1}: ${Math.round(last.recordsPerSecond)} records/s`);
      }
    }
  } finally {
    admin.close();
  }
  return runs;
}

async function produceRun(options: SpreadOptions, topic: string, partitions: number): Promise<SpreadRun> {
  const producer = new Producer({ ...options.connection, ...options.producerSettings });
  await producer.connect();
  try {
    // Warm: metadata and a connection per broker, outside the timing.
    await producer.send({ topic, value: 'warm', partition: 0 });
    const seconds = await sendAll({
      producer, topic, value: new Uint8Array(options.valueBytes).fill(0x76), recordCountMax: options.recordCount,
      partitionOf: (index) => index % partitions, inFlightSendsMax: options.inFlightSendsMax,
      progress: (sent) => options.progress(`spread: ${partitions} partition(s): ${sent} / ${options.recordCount} sent`),
    });
    return { partitions, records: options.recordCount, seconds, recordsPerSecond: options.recordCount / seconds };
  } finally {
    await producer.close();
  }
}
