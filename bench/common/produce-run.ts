import type { Producer } from '../../src/client/index.js';
import type { LatencyRecorder } from './latency.js';

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
 * every acknowledgement. The first failed send fails the run (after all have settled).
 */
export async function produceAsFastAsPossible(options: ProduceRunOptions): Promise<ProduceFigures> {
  const { producer, topic, recordCount, valueBytes, inFlightSendsMax, latency } = options;
  const value = 'v'.repeat(valueBytes);
  const started = performance.now();
  // A counter, not an array of promises: shifting a 20,000-entry array per send is itself O(n).
  let outstanding = 0;
  let firstError: unknown = null;
  let slotFreed: (() => void) | null = null;
  const settled = (): void => {
    outstanding -= 1;
    slotFreed?.();
    slotFreed = null;
  };
  const failed = (error: unknown): void => {
    firstError ??= error;
    settled();
  };
  let lastProgressMs = started;
  for (let i = 0; i < recordCount; i++) {
    outstanding += 1;
    if (latency === undefined) {
      producer.send({ topic, value }).then(settled, failed);
    } else {
      const sentMs = performance.now();
      producer.send({ topic, value }).then(() => { latency.recordMs(performance.now() - sentMs); settled(); }, failed);
    }
    while (outstanding >= inFlightSendsMax) await new Promise<void>((resolve) => { slotFreed = resolve; });
    if (performance.now() - lastProgressMs > 1000) {
      lastProgressMs = performance.now();
      options.progress(i);
    }
  }
  await producer.flush();
  while (outstanding > 0) await new Promise<void>((resolve) => { slotFreed = resolve; });
  if (firstError !== null) throw firstError;
  const seconds = (performance.now() - started) / 1000;
  return { records: recordCount, seconds, recordsPerSecond: recordCount / seconds, megabytesPerSecond: (recordCount * valueBytes) / seconds / 1e6 };
}
