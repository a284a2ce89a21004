import type { Producer } from '../../src/client/index.js';

/** What one send loop sends, and when it stops. */
export interface SendLoopOptions {
  readonly producer: Producer;
  readonly topic: string;
  readonly value: Uint8Array;
  /** Most records the loop sends. */
  readonly recordCountMax: number;
  /** The explicit partition of the `index`-th record. */
  readonly partitionOf: (index: number) => number;
  /** send() calls not yet settled; the loop waits for a slot past this. */
  readonly inFlightSendsMax: number;
  /** Called about once a second with the records sent and acknowledged so far. */
  readonly progress: (sent: number, acknowledged: number) => void;
  /** Checked before each send: true ends the loop (the recovery bench's kill). */
  readonly stopSending?: () => boolean;
}

/** The loop's counts so far; read at any time (the recovery bench reads them just before its kill). */
export interface SendCounts {
  sent: number;
  acknowledged: number;
  failed: number;
  /** Largest offset acknowledged so far; null before the first acknowledgement. */
  ackedOffsetMax: number | null;
  firstError: unknown;
}

/**
 * Sends up to `recordCountMax` records with explicit partitions as fast as the producer takes
 * them, with at most `inFlightSendsMax` unsettled. `counts` is live. `done` resolves when the
 * loop has stopped sending; `settled` once every send it made has settled (which, after a
 * broker was killed, may need the producer to be closed).
 */
export function startSendLoop(options: SendLoopOptions): { counts: SendCounts; done: Promise<number>; settled: () => Promise<void> } {
  const counts: SendCounts = { sent: 0, acknowledged: 0, failed: 0, ackedOffsetMax: null, firstError: null };
  let slotFreed: (() => void) | null = null;
  const outstanding = (): number => counts.sent - counts.acknowledged - counts.failed;
  const wake = (): void => { slotFreed?.(); slotFreed = null; };
  const acknowledged = (metadata: { offset: number | null }): void => {
    counts.acknowledged += 1;
    if (metadata.offset !== null && (counts.ackedOffsetMax === null || metadata.offset > counts.ackedOffsetMax)) counts.ackedOffsetMax = metadata.offset;
    wake();
  };
  const failed = (error: unknown): void => {
    counts.failed += 1;
    counts.firstError ??= error;
    wake();
  };
  const { producer, topic, value } = options;
  const done = (async () => {
    let lastProgressMs = performance.now();
    for (let i = 0; i < options.recordCountMax; i++) {
      if (options.stopSending?.() === true || counts.failed > 0) break;
      counts.sent += 1;
      producer.send({ topic, value, partition: options.partitionOf(i) }).then(acknowledged, failed);
      while (outstanding() >= options.inFlightSendsMax) await new Promise<void>((resolve) => { slotFreed = resolve; });
      if (performance.now() - lastProgressMs > 1000) {
        lastProgressMs = performance.now();
        options.progress(counts.sent, counts.acknowledged);
      }
    }
    return counts.sent;
  })();
  const settled = async (): Promise<void> => {
    await done;
    while (outstanding() > 0) await new Promise<void>((resolve) => { slotFreed = resolve; });
  };
  return { counts, done, settled };
}

/** Sends exactly `recordCountMax` records and waits for all; the first failure fails it. Returns seconds taken. */
export async function sendAll(options: SendLoopOptions): Promise<number> {
  const started = performance.now();
  const loop = startSendLoop(options);
  await loop.done;
  await options.producer.flush();
  await loop.settled();
  if (loop.counts.firstError !== null) throw loop.counts.firstError;
  return (performance.now() - started) / 1000;
}
