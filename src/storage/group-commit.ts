import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';

/** Where a group goes: written in one call, then made durable in one call. */
export interface GroupCommitSink<T> {
  /** Writes every item in order (one coalesced write where the sink can). */
  write(items: readonly T[]): Promise<void>;
  /** fdatasync of what was written. */
  sync(): Promise<void>;
}

/**
 * Watches each group's fsync (for the broker's metrics). `nowMs` is a monotonic clock
 * (performance.now in production); `onSync` gets the fsync's duration and the items and bytes it
 * made durable. It runs on a microtask after the group's promises resolve: it cannot delay
 * them, and if it throws, the error surfaces on its own instead of wedging the committer.
 */
export interface SyncObserver {
  readonly nowMs: () => number;
  readonly onSync: (durationMs: number, items: number, bytes: number) => void;
}

/** Counters for benchmarks and metrics. */
export interface GroupCommitStats {
  /** Completed fsyncs. */
  syncCount: number;
  /** Items made durable. */
  itemsSynced: number;
  /** Bytes made durable. */
  bytesSynced: number;
}

type Task<T> =
  | { readonly kind: 'item'; readonly item: T; readonly sizeBytes: number; readonly resolve: () => void; readonly reject: (error: Error) => void }
  | { readonly kind: 'exclusive'; readonly run: () => Promise<void>; readonly resolve: () => void; readonly reject: (error: Error) => void };

/**
 * Group commit: items that arrive while a write+fsync is in flight queue up and share the next
 * one, written together and made durable by a single fdatasync. An item's promise resolves only
 * after an fsync that began after its bytes were written.
 *
 * Exclusive tasks (truncation, close) run in queue order with no group in flight, so they see a
 * quiet log. They touch the disk too, so their failure is as fatal as a failed fsync.
 *
 * A failed write or fsync is not retried: the state of the bytes it covered is unknown. The
 * committer fails every queued and future item with KAFKA_STORAGE_ERROR and reports the cause
 * once through `onFatal`.
 */
export class GroupCommitter<T> {
  readonly stats: GroupCommitStats = { syncCount: 0, itemsSynced: 0, bytesSynced: 0 };
  private readonly queue: Task<T>[] = [];
  private running = false;
  private failure: Error | null = null;

  constructor(
    private readonly sink: GroupCommitSink<T>,
    private readonly groupBytesMax: number,
    private readonly onFatal: (error: Error) => void,
    private readonly syncObserver: SyncObserver | null = null,
  ) {
    assert(groupBytesMax > 0, 'groupBytesMax is positive');
  }

  /** The error that stopped the committer, or null while it works. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Queues an item; resolves once it is written and fsynced. */
  commit(item: T, sizeBytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure !== null) return reject(storageError(this.failure));
      this.queue.push({ kind: 'item', item, sizeBytes, resolve, reject });
      this.kick();
    });
  }

  /** Runs `run` after everything queued before it is durable, with nothing else in flight. */
  exclusive(run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure !== null) return reject(storageError(this.failure));
      this.queue.push({ kind: 'exclusive', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Start on the next turn of the event loop, not now: producers woken by one group's acks
    // append again within the same turn, and taking the first of them alone would split every
    // later group into one append and the rest (measured: half of all fsyncs covered one append).
    setImmediate(() => void this.drain());
  }

  // `running` must drop in the same tick the loop sees an empty queue: a commit() arriving
  // between the two would find `running` still set and wait forever.
  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.failure === null) {
      const head = this.queue[0]!;
      if (head.kind === 'exclusive') {
        this.queue.shift();
        try {
          await head.run();
          head.resolve();
        } catch (error) {
          this.fail(error as Error, [head]);
        }
        continue;
      }
      await this.commitGroup(this.takeGroup());
    }
    this.running = false;
  }

  // The leading run of items, bounded by groupBytesMax (always at least one item).
  private takeGroup(): Extract<Task<T>, { kind: 'item' }>[] {
    const group: Extract<Task<T>, { kind: 'item' }>[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind !== 'item') break;
      if (group.length > 0 && bytes + head.sizeBytes > this.groupBytesMax) break;
      group.push(head);
      bytes += head.sizeBytes;
      this.queue.shift();
    }
    return group;
  }

  private async commitGroup(group: Extract<Task<T>, { kind: 'item' }>[]): Promise<void> {
    let syncStartMs = 0;
    try {
      await this.sink.write(group.map((task) => task.item));
      syncStartMs = this.syncObserver?.nowMs() ?? 0;
      await this.sink.sync();
    } catch (error) {
      this.fail(error as Error, group);
      return;
    }
    const syncMs = this.syncObserver === null ? 0 : this.syncObserver.nowMs() - syncStartMs;
    this.stats.syncCount += 1;
    this.stats.itemsSynced += group.length;
    let groupBytes = 0;
    for (const task of group) {
      groupBytes += task.sizeBytes;
      task.resolve();
    }
    this.stats.bytesSynced += groupBytes;
    const observer = this.syncObserver;
    if (observer !== null) queueMicrotask(() => observer.onSync(syncMs, group.length, groupBytes));
  }

  private fail(cause: Error, group: readonly Task<T>[]): void {
    this.failure = cause;
    const error = storageError(cause);
    for (const task of [...group, ...this.queue.splice(0)]) task.reject(error);
    // The owner's handler runs outside the drain loop, so a handler that throws surfaces as an
    // uncaught exception of its own instead of wedging the committer.
    queueMicrotask(() => this.onFatal(cause));
  }
}

function storageError(cause: Error): SluiceError {
  return new SluiceError('KAFKA_STORAGE_ERROR', cause.message, { cause });
}
