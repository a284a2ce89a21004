import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { fsyncDirectory } from './durable-file.js';
import type { SyncObserver } from './group-commit.js';
import type { LogConfig } from './log-config.js';
import { ensureMetaProperties, type MetaProperties } from './meta-properties.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint, type PartitionOffset } from './offset-checkpoint-file.js';
import { PartitionLog } from './partition-log.js';
import { parsePartitionDirName, partitionDirName } from './segment-names.js';
import type { CachedBatch } from './tail-cache.js';
import { TailCacheBudget } from './tail-cache-budget.js';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';
/**
 * A partition directory being deleted is first renamed to `<topic>-<partition>.deleting`: a name
 * that can never be a partition's (those end in digits), so that a crash in the middle of the
 * recursive removal leaves nothing that the next open would take for a log. Open removes any.
 */
export const DELETING_DIR_SUFFIX = '.deleting';
/** Keeps `<topic>-<partition>.deleting` within a 255-byte file name for any topic name. */
const DELETING_DIR_TOPIC_CHARS_MAX = 200;

/** What the log manager is opened with. */
export interface LogManagerOptions {
  readonly dataDir: string;
  readonly brokerId: number;
  readonly config: LogConfig;
  /** How often the recovery point and high watermark of every log are checkpointed. */
  readonly checkpointIntervalMs: number;
  /** How often retention is applied to every log. */
  readonly retentionCheckIntervalMs: number;
  readonly highWatermarkFollowsFlush: boolean;
  readonly nowMs: () => number;
  readonly logger: Logger;
  readonly onFatal: (error: Error) => void;
  /** Passed to every partition log: watches each group-commit fsync (metrics). */
  readonly syncObserver?: SyncObserver;
  /** Bytes all the partitions' tail caches may hold together; unlimited when absent (each cache has its own limit). */
  readonly tailCacheTotalBytesMax?: number;
}

/**
 * Owns one data directory: its partition logs, its two checkpoint files and its meta.properties
 * (the layout is in docs/storage.md). Checkpoints are written every `checkpointIntervalMs` and on
 * close; a checkpoint only ever records offsets that were fsynced.
 */
export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly opening = new Map<string, Promise<PartitionLog>>();
  // Deletions queued or under way, by `<topic>-<partition>`; getOrCreateLog waits for them.
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  // Checkpoints, retention and close run one at a time: they share temp files and segments.
  private maintenance: Promise<unknown> = Promise.resolve();

  private readonly tailCacheBudget: TailCacheBudget<CachedBatch> | undefined;

  private constructor(private readonly options: LogManagerOptions, readonly meta: MetaProperties) {
    this.tailCacheBudget = options.tailCacheTotalBytesMax === undefined ? undefined : new TailCacheBudget(options.tailCacheTotalBytesMax);
  }

  /** Bytes held by every partition's tail cache together. */
  get tailCacheBytes(): number {
    if (this.tailCacheBudget !== undefined) return this.tailCacheBudget.sizeBytes;
    let bytes = 0;
    for (const log of this.logs.values()) bytes += log.tailCacheBytes;
    return bytes;
  }

  /** Opens the data directory, recovering every partition log in it. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    await mkdir(options.dataDir, { recursive: true });
    const meta = await ensureMetaProperties(options.dataDir, options.brokerId);
    const manager = new LogManager(options, meta);
    await manager.openExistingLogs();
    manager.startTimers();
    return manager;
  }

  /** Every open log, keyed `<topic>-<partition>`. */
  get partitions(): ReadonlyMap<string, PartitionLog> {
    return this.logs;
  }

  /** The log of a partition, or undefined when this directory has none. */
  log(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionDirName(topic, partition));
  }

  /** The log of a partition, created empty if it does not exist. */
  async getOrCreateLog(topic: string, partition: number): Promise<PartitionLog> {
    assert(!this.closed, 'log manager is open');
    const name = partitionDirName(topic, partition);
    // A log being deleted is gone: wait until its directory is, then create a fresh one.
    for (let deletion = this.deleting.get(name); deletion !== undefined; deletion = this.deleting.get(name)) {
      await deletion.catch(() => undefined);
      if (this.closed) throw new SluiceError('KAFKA_STORAGE_ERROR', 'the log manager closed while the log was being deleted');
    }
    const existing = this.logs.get(name) ?? this.opening.get(name);
    if (existing !== undefined) return existing;
    // Two callers asking at once must share one open: two logs on one directory would corrupt it.
    const opening = this.createLog(topic, partition, name);
    this.opening.set(name, opening);
    try {
      const log = await opening;
      this.logs.set(name, log);
      return log;
    } finally {
      this.opening.delete(name);
    }
  }

  private async createLog(topic: string, partition: number, name: string): Promise<PartitionLog> {
    const directory = join(this.options.dataDir, name);
    await mkdir(directory, { recursive: true });
    await fsyncDirectory(this.options.dataDir);
    return this.openLog(topic, partition, directory, null, null);
  }

  /**
   * Deletes a partition's log: closes it (appends already queued complete first; later ones fail
   * with KAFKA_STORAGE_ERROR), forgets it, writes the checkpoints without it, then removes its
   * directory and fsyncs the data directory. Runs with the other maintenance (checkpoints,
   * retention, close), after any open of the same log under way; a getOrCreateLog called
   * meanwhile waits and then creates a new, empty log. Deleting a log that does not exist is
   * not an error.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    assert(!this.closed, 'log manager is open');
    const name = partitionDirName(topic, partition);
    const deletion: Promise<void> = this.serially(() => this.deleteExclusive(topic, partition, name)).finally(() => {
      if (this.deleting.get(name) === deletion) this.deleting.delete(name);
    });
    this.deleting.set(name, deletion);
    return deletion;
  }

  private async deleteExclusive(topic: string, partition: number, name: string): Promise<void> {
    // An open that began before this deletion finishes first; its log is then deleted with it.
    const opened = await this.opening.get(name)?.catch(() => undefined);
    const doomed = new Set([this.logs.get(name), opened].filter((log) => log !== undefined));
    this.logs.delete(name);
    for (const log of doomed) await log.close();
    // The checkpoints forget the log before its directory goes, so that no recovery point of
    // the old log can ever be applied to a new log of the same name.
    await this.writeCheckpoints();
    const directory = join(this.options.dataDir, name);
    const deletingDirectory = join(this.options.dataDir, `${topic.slice(0, DELETING_DIR_TOPIC_CHARS_MAX)}-${partition}${DELETING_DIR_SUFFIX}`);
    await rm(deletingDirectory, { recursive: true, force: true });
    try {
      await rename(directory, deletingDirectory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await fsyncDirectory(this.options.dataDir);
    await rm(deletingDirectory, { recursive: true, force: true });
    await fsyncDirectory(this.options.dataDir);
    this.options.logger.info({ topic, partition }, 'deleted a partition log');
    assert(!this.logs.has(name), `no log of deleted partition ${name}`);
  }

  /**
   * Writes each log's active-segment indexes (so that crash recovery can start near the recovery
   * point), then both checkpoint files from the logs' current flushed offsets and high watermarks.
   */
  async checkpoint(): Promise<void> {
    return this.serially(async () => {
      for (const log of this.logs.values()) await log.writeActiveIndexes();
      await this.writeCheckpoints();
    });
  }

  private async writeCheckpoints(): Promise<void> {
    const recoveryPoints: PartitionOffset[] = [];
    const highWatermarks: PartitionOffset[] = [];
    for (const [name, log] of this.logs) {
      const { topic, partition } = parsePartitionDirName(name)!;
      recoveryPoints.push({ topic, partition, offset: log.flushedOffset });
      highWatermarks.push({ topic, partition, offset: log.highWatermark });
    }
    await writeOffsetCheckpoint(join(this.options.dataDir, RECOVERY_POINT_CHECKPOINT_FILE), recoveryPoints);
    await writeOffsetCheckpoint(join(this.options.dataDir, HIGH_WATERMARK_CHECKPOINT_FILE), highWatermarks);
  }

  /** Applies retention to every log but internal ones; returns the number of segments deleted. */
  async applyRetention(): Promise<number> {
    return this.serially(async () => {
      let deleted = 0;
      for (const [name, log] of this.logs) {
        // Internal topics (`__consumer_offsets`) hold state, not a stream: deleting their old
        // segments would forget commits. They wait for compaction instead.
        if (name.startsWith('__')) continue;
        deleted += await log.applyRetention();
      }
      return deleted;
    });
  }

  /** Closes every log (indexes written, files closed), then writes the checkpoints last. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.serially(async () => {
      for (const log of this.logs.values()) await log.close();
      await this.writeCheckpoints();
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.maintenance.then(task);
    this.maintenance = result.catch(() => undefined);
    return result;
  }

  private async openExistingLogs(): Promise<void> {
    const recoveryPoints = await this.readCheckpoint(RECOVERY_POINT_CHECKPOINT_FILE);
    const highWatermarks = await this.readCheckpoint(HIGH_WATERMARK_CHECKPOINT_FILE);
    for (const name of (await readdir(this.options.dataDir)).sort()) {
      const directory = join(this.options.dataDir, name);
      if (name.endsWith(DELETING_DIR_SUFFIX)) {
        await this.finishInterruptedDeletion(directory);
        continue;
      }
      const parsed = parsePartitionDirName(name);
      if (parsed === null || !(await stat(directory)).isDirectory()) continue;
      const log = await this.openLog(parsed.topic, parsed.partition, directory, recoveryPoints.get(name) ?? null, highWatermarks.get(name) ?? null);
      this.logs.set(name, log);
    }
  }

  private async finishInterruptedDeletion(directory: string): Promise<void> {
    this.options.logger.warn({ directory }, 'removing a partition directory whose deletion was interrupted');
    await rm(directory, { recursive: true, force: true });
    await fsyncDirectory(this.options.dataDir);
  }

  private async openLog(topic: string, partition: number, directory: string, recoveryPoint: number | null, highWatermark: number | null): Promise<PartitionLog> {
    return PartitionLog.open({
      directory, config: this.options.config, recoveryPoint, highWatermark,
      highWatermarkFollowsFlush: this.options.highWatermarkFollowsFlush,
      nowMs: this.options.nowMs, logger: this.options.logger.child({ topic, partition }),
      onFatal: this.options.onFatal,
      syncObserver: this.options.syncObserver,
      ...(this.tailCacheBudget === undefined ? {} : { tailCacheBudget: this.tailCacheBudget }),
    });
  }

  // A checkpoint that cannot be believed is treated as absent: every log it would have covered
  // is then scanned from its start, which is slow but never wrong.
  private async readCheckpoint(fileName: string): Promise<Map<string, number>> {
    const read = await readOffsetCheckpoint(join(this.options.dataDir, fileName));
    const offsets = new Map<string, number>();
    if (read.kind === 'invalid') {
      this.options.logger.warn({ file: fileName, reason: read.reason }, 'ignoring an invalid checkpoint file; logs will be recovered from their start');
    }
    if (read.kind !== 'read') return offsets;
    for (const entry of read.entries) offsets.set(partitionDirName(entry.topic, entry.partition), entry.offset);
    return offsets;
  }

  private startTimers(): void {
    const every = (intervalMs: number, task: () => Promise<unknown>, what: string): void => {
      const timer = setInterval(() => {
        if (this.closed) return;
        task().catch((error: unknown) => this.options.logger.error({ err: error }, `${what} failed`));
      }, intervalMs);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.checkpointIntervalMs, () => this.checkpoint(), 'checkpoint');
    every(this.options.retentionCheckIntervalMs, () => this.applyRetention(), 'retention');
  }
}
