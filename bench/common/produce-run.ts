import type { Producer } from '../../src/client/index.js';
import type { LatencyRecorder } from './latency.js';
import { sendWindowed } from './windowed-sends.js';

/** Throughput of one produce run; MB are 10^6 bytes of record values. */
export interface ProduceFigures {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** What one produce-as-fast-as-possible run sends and how it reports. */
export interface ProduceRunOptions {
  readonly producer: Producer;
  readonly topic: string;
  readonly recordCount: number;
  readonly valueBytes: number;
  /** send() calls not yet settled; the loop waits for a slot past this. */
  readonly inFlightSendsMax: number;
  /** Called about once a second with the records handed to send() so far. */
  readonly progress: (sent: number) => void;
  /** When given, each record's send() → acknowledgement time (queueing in the producer included). */
  readonly latency?: LatencyRecorder;
}

/**
 * Sends `recordCount` records of `valueBytes` bytes (null keys: the sticky partitioner) as fast as
 * the producer takes them, keeping at most `inFlightSendsMax` unsettled, then flushes and waits for
 * every acknowledgement. The first failed send stops the run and fails it (after all have settled).
 */
export async function produceAsFastAsPossible(options: ProduceRunOptions): Promise<ProduceFigures> {
  const { producer, topic, recordCount, valueBytes, inFlightSendsMax, latency } = options;
  const value = 'v'.repeat(valueBytes);
  const started = performance.now();
  let lastProgressMs = started;
  await sendWindowed(recordCount, inFlightSendsMax, (index) => {
    if (performance.now() - lastProgressMs > 1000) {
      lastProgressMs = performance.now();
      options.progress(index);
    }
    if (latency === undefined) return producer.send({ topic, value });
    const sentMs = performance.now();
    return producer.send({ topic, value }).then(() => latency.recordMs(performance.now() - sentMs));
  }, () => producer.flush());
  const seconds = (performance.now() - started) / 1000;
  return { records: recordCount, seconds, recordsPerSecond: recordCount / seconds, megabytesPerSecond: (recordCount * valueBytes) / seconds / 1e6 };
}
