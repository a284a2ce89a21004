import type { Producer } from '../../src/client/index.js';

/** A steady producer sends this many records past the ones acknowledged before it gives up. */
const UNACKNOWLEDGED_SENDS_MAX = 100_000;
/** Pacing tick: records due since the last tick are sent together. */
const TICK_MS = 1;

/**
 * Sends records to one partition at a fixed rate, each value unique (`<prefix>-<n>` padded to
 * `valueBytes`), and remembers what was sent and, for each acknowledged record, its offset and
 * when (performance.now()) the acknowledgement arrived.
 */
export class SteadyProducer {
  readonly sent = new Set<string>();
  /** value → acknowledged offset. */
  readonly acknowledged = new Map<string, number>();
  private unsettled = 0;
  private firstError: unknown = null;
  private sending = false;
  private loop: Promise<void> | null = null;
  private ackListener: ((ackMs: number) => void) | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly partition: number,
    private readonly ratePerSecond: number,
    private readonly valuePrefix: string,
    private readonly valueBytes: number,
  ) {}

  /** Starts sending on schedule until stop(). */
  start(): void {
    this.sending = true;
    this.loop = this.sendOnSchedule();
  }

  /** Called with the time of every acknowledgement from now on (null: no longer). */
  onAck(listener: ((ackMs: number) => void) | null): void {
    this.ackListener = listener;
  }

  /** Stops sending, without waiting for anything (the way out after a failure). */
  halt(): void {
    this.sending = false;
  }

  /** Stops sending, flushes, and waits (bounded) for every send to settle; throws the first failure. */
  async stop(timeoutMs: number): Promise<void> {
    this.sending = false;
    await this.loop;
    await this.producer.flush();
    const deadlineMs = performance.now() + timeoutMs;
    while (this.unsettled > 0 && performance.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.unsettled > 0) throw new Error(`${this.unsettled} sends still unanswered ${timeoutMs} ms after the producer stopped`);
    if (this.firstError !== null) throw this.firstError;
  }

  private async sendOnSchedule(): Promise<void> {
    const startedMs = performance.now();
    let count = 0;
    while (this.sending && this.firstError === null) {
      const dueCount = Math.floor(((performance.now() - startedMs) * this.ratePerSecond) / 1000);
      for (; count < dueCount; count++) this.sendOne(count);
      if (this.unsettled > UNACKNOWLEDGED_SENDS_MAX) {
        this.firstError = new Error(`more than ${UNACKNOWLEDGED_SENDS_MAX} sends unacknowledged: the partition is not being served`);
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  }

  private sendOne(n: number): void {
    const value = `${this.valuePrefix}-${n}-`.padEnd(this.valueBytes, '.');
    this.sent.add(value);
    this.unsettled += 1;
    this.producer.send({ topic: this.topic, partition: this.partition, value }).then((metadata) => {
      const ackMs = performance.now();
      this.unsettled -= 1;
      if (metadata.offset === null) {
        this.firstError ??= new Error('an acks=all produce was answered without an offset');
        return;
      }
      this.acknowledged.set(value, metadata.offset);
      this.ackListener?.(ackMs);
    }, (error: unknown) => {
      this.unsettled -= 1;
      this.firstError ??= error;
    });
  }
}
