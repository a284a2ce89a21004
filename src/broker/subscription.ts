import type { ErrorName } from '../errors/error-codes.js';
import { SluiceError } from '../errors/sluice-error.js';
import type { PartitionLog } from '../storage/partition-log.js';

/** The fields of one push (docs/protocol.md, "Subscribe"). */
export interface PushFields {
  readonly errorName: ErrorName | null;
  readonly highWatermark: number;
  readonly nextOffset: number;
  readonly records: Uint8Array;
}

/**
 * One partition pushed to one client from an offset on, as batches become readable, within the
 * credit the client granted. The broker keeps no pushed bytes for the client: a batch that does
 * not fit the credit left is simply not read until more credit comes, so a slow consumer costs
 * this small object, not a buffer.
 */
export class Subscription {
  private creditBytes: number;
  private nextOffset: number;
  private pumping = false;
  private pumpAgain = false;
  private stopWatching: (() => void) | null = null;
  private ended = false;

  constructor(
    readonly id: number,
    readonly topic: string,
    readonly partition: number,
    private readonly log: PartitionLog,
    fromOffset: number,
    creditBytes: number,
    private readonly creditBytesMax: number,
    /** Most record bytes one push may carry, so that it fits in a frame. */
    private readonly pushBytesMax: number,
    private readonly send: (fields: PushFields) => void,
  ) {
    this.nextOffset = fromOffset;
    this.creditBytes = Math.min(creditBytes, creditBytesMax);
  }

  /** Credit left, in bytes. */
  get credit(): number {
    return this.creditBytes;
  }

  /** Starts pushing what is readable now and whatever becomes readable later. */
  start(): void {
    this.stopWatching = this.log.watchHighWatermark(() => this.pump());
    this.pump();
  }

  /** Adds credit (clamped to creditBytesMax); returns the credit now available. */
  grant(creditBytes: number): number {
    this.creditBytes = Math.min(this.creditBytes + creditBytes, this.creditBytesMax);
    this.pump();
    return this.creditBytes;
  }

  /** Ends with a last push carrying `errorName` (the partition moved away: NOT_LEADER_OR_FOLLOWER). */
  fail(errorName: ErrorName): void {
    if (this.ended) return;
    this.end();
    this.send({ errorName, highWatermark: this.log.highWatermark, nextOffset: this.nextOffset, records: new Uint8Array(0) });
  }

  /** Stops pushing; idempotent. */
  end(): void {
    this.ended = true;
    this.stopWatching?.();
    this.stopWatching = null;
  }

  // One pump at a time; a wake-up during a pump makes it go round once more.
  private pump(): void {
    if (this.ended) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pushReadable().finally(() => {
      this.pumping = false;
      if (this.pumpAgain && !this.ended) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  private async pushReadable(): Promise<void> {
    // Each pass pushes at least one batch or stops, and both offsets and credit are finite.
    while (!this.ended && this.creditBytes > 0 && this.nextOffset < this.log.highWatermark) {
      let read;
      try {
        read = await this.log.read(this.nextOffset, Math.min(this.creditBytes, this.pushBytesMax), this.log.highWatermark);
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
        this.send({ errorName: error.errorName, highWatermark: this.log.highWatermark, nextOffset: this.nextOffset, records: new Uint8Array(0) });
        this.end();
        return;
      }
      if (read.batchCount === 0 || read.bytes.length > this.creditBytes || read.bytes.length > this.pushBytesMax || this.ended) return;
      this.creditBytes -= read.bytes.length;
      this.nextOffset = read.nextOffset;
      this.send({ errorName: null, highWatermark: this.log.highWatermark, nextOffset: this.nextOffset, records: read.bytes });
    }
  }
}
