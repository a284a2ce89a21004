import type { Logger } from 'pino';
import type { Connection } from '../../client/connection.js';
import type { BrokerInfo } from '../../cluster/metadata-store.js';
import { errorNameOf, type ErrorName } from '../../errors/error-codes.js';
import { SluiceError } from '../../errors/sluice-error.js';
import { ApiKey } from '../../protocol/index.js';
import { checkBatchFraming, decodeBatchHeader } from '../../record/index.js';
import type { PartitionLog } from '../../storage/partition-log.js';

/** What a fetcher needs from the broker around it. */
export interface ReplicaFetcherDeps {
  readonly brokerId: number;
  /** Opens a protocol connection to a broker (handshake done). */
  readonly connect: (broker: BrokerInfo) => Promise<Connection>;
  /** Longest one replica Fetch waits at the leader for new data. */
  readonly fetchWaitMs: number;
  /** Most bytes one replica Fetch asks for, over all its partitions. */
  readonly fetchBytesMax: number;
  readonly batchBytesMax: number;
  /** Pause after a failed round (connection lost, leader not ready) before the next. */
  readonly retryBackoffMs: number;
  readonly logger: Logger;
}

interface Followed {
  readonly topic: string;
  readonly partition: number;
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
  /** True until the divergent tail (if any) has been truncated by the leader's epoch end offset. */
  needsTruncation: boolean;
  /** Set when the leader refused us for this epoch: wait for newer metadata to re-add it. */
  parked: ErrorName | null;
  /** Answers in a row that asked us to come back later, for the log. */
  refusals: number;
}

const EPOCH_ROUNDS_MAX = 64;
const FAILED_ROUNDS_WARN_EVERY = 50;

/**
 * Pulls the partitions this broker follows from one leader broker, over one connection (as
 * Kafka's ReplicaFetcherThread): first, for each partition, asks the leader for the end offset of
 * its own latest epoch and truncates past it (leader-epoch truncation, KIP-101/279), then fetches
 * from its log end with its replica id, appends what comes back keeping the leader's offsets and
 * epochs, waits until that is fsynced, and takes the leader's high watermark. The next fetch
 * offset is the leader's evidence that everything before it is durable here.
 */
export class ReplicaFetcher {
  private readonly followed = new Map<string, Followed>();
  private connection: Connection | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Set when a leader asked us to come back later (UNKNOWN_LEADER_EPOCH): back off before the next round. */
  private retrySoon = false;
  /** Rounds failed in a row: the first and every FAILED_ROUNDS_WARN_EVERY-th are logged above debug. */
  private failedRounds = 0;

  constructor(readonly leader: BrokerInfo, private readonly deps: ReplicaFetcherDeps) {}

  /** Number of partitions followed from this leader. */
  get size(): number {
    return this.followed.size;
  }

  /** Starts (or restarts at a new epoch) following one partition. */
  add(topic: string, partition: number, log: PartitionLog, leaderEpoch: number): void {
    this.followed.set(key(topic, partition), { topic, partition, log, leaderEpoch, needsTruncation: true, parked: null, refusals: 0 });
    this.wake?.();
    if (this.running === null && !this.stopped) this.running = this.run().finally(() => { this.running = null; });
  }

  /**
   * Stops following a partition. Resolves once no append to its log is under way, so the caller
   * may then lead it (its log end is final) or delete it.
   */
  async remove(topic: string, partition: number): Promise<void> {
    this.followed.delete(key(topic, partition));
    await this.roundDone();
  }

  /** Stops everything; resolves once the loop has ended and the connection is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.followed.clear();
    this.wake?.();
    this.connection?.close();
    await this.running;
  }

  private round: Promise<void> = Promise.resolve();

  private roundDone(): Promise<void> {
    return this.round;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.followed.size > 0) {
      let finish!: () => void;
      this.round = new Promise((resolve) => { finish = resolve; });
      let failed = false;
      try {
        const connection = await this.connected();
        await this.truncateDiverged(connection);
        await this.fetchOnce(connection);
      } catch (error) {
        failed = true;
        if (!this.stopped) this.roundFailed(error);
        this.connection?.close();
        this.connection = null;
      } finally {
        finish();
      }
      if (!failed && this.failedRounds > 0) {
        this.deps.logger.info({ leader: this.leader.brokerId, failedRounds: this.failedRounds }, 'replica fetch recovered');
        this.failedRounds = 0;
      }
      const allParked = [...this.followed.values()].every((followed) => followed.parked !== null);
      const backOff = failed || allParked || this.retrySoon;
      this.retrySoon = false;
      if (backOff && !this.stopped) await this.sleep(this.deps.retryBackoffMs);
    }
  }

  // A fetcher that keeps failing holds its partitions out of the ISR: say so above debug, but not
  // once per retry.
  private roundFailed(error: unknown): void {
    this.failedRounds += 1;
    const fields = { err: error, leader: this.leader.brokerId, failedRounds: this.failedRounds };
    if (this.failedRounds === 1) this.deps.logger.info(fields, 'replica fetch round failed; retrying');
    else if (this.failedRounds % FAILED_ROUNDS_WARN_EVERY === 0) this.deps.logger.warn(fields, 'replica fetch keeps failing; retrying');
    else this.deps.logger.debug(fields, 'replica fetch round failed; retrying');
  }

  private async connected(): Promise<Connection> {
    if (this.connection !== null && this.connection.isOpen) return this.connection;
    this.connection = await this.deps.connect(this.leader);
    return this.connection;
  }

  // KIP-279: ask for the end of our latest epoch; truncate there; if the leader did not know
  // that epoch, our latest epoch changes with the truncation, so ask again.
  private async truncateDiverged(connection: Connection): Promise<void> {
    for (const followed of [...this.followed.values()]) {
      if (!followed.needsTruncation || followed.parked !== null) continue;
      if (await this.truncateOne(connection, followed)) followed.needsTruncation = false;
    }
  }

  // True once the log holds nothing the leader does not; false when the leader could not say.
  private async truncateOne(connection: Connection, followed: Followed): Promise<boolean> {
    for (let round = 0; round < EPOCH_ROUNDS_MAX; round++) {
      const latestEpoch = followed.log.latestEpoch;
      if (latestEpoch === null) return true;
      const response = await connection.request(ApiKey.OffsetForLeaderEpoch, {
        replicaId: this.deps.brokerId,
        partitions: [{ topic: followed.topic, partition: followed.partition, currentLeaderEpoch: followed.leaderEpoch, leaderEpoch: latestEpoch }],
      });
      if (response.headerOnly) throw new SluiceError(errorNameOf(response.errorCode) ?? 'UNKNOWN_SERVER_ERROR', `OffsetForLeaderEpoch: ${response.errorMessage ?? ''}`);
      const answer = response.partitions[0]!;
      if (answer.errorCode !== 0) {
        this.park(followed, answer.errorCode);
        return false;
      }
      // Removed or re-added at another epoch meanwhile: its new entry starts over.
      if (this.followed.get(key(followed.topic, followed.partition)) !== followed) return false;
      // The leader knows nothing of that epoch or before: keep only what is committed.
      const endOffset = answer.endOffset < 0 ? followed.log.highWatermark : answer.endOffset;
      if (endOffset < followed.log.logEndOffset) {
        this.deps.logger.info({ topic: followed.topic, partition: followed.partition, from: followed.log.logEndOffset, to: endOffset, ourEpoch: latestEpoch, leaderEpoch: answer.leaderEpoch }, 'truncating the diverged tail');
        await followed.log.truncateTo(endOffset);
      }
      // Done when the leader knew our latest epoch; otherwise the truncation changed it: ask again.
      if (answer.endOffset < 0 || answer.leaderEpoch === latestEpoch || followed.log.latestEpoch === latestEpoch) return true;
    }
    return true;
  }

  private async fetchOnce(connection: Connection): Promise<void> {
    const active = [...this.followed.values()].filter((followed) => followed.parked === null && !followed.needsTruncation);
    if (active.length === 0) return;
    const perPartitionBytes = Math.max(this.deps.batchBytesMax, Math.floor(this.deps.fetchBytesMax / active.length));
    const response = await connection.request(ApiKey.Fetch, {
      replicaId: this.deps.brokerId, maxWaitMs: this.deps.fetchWaitMs, minBytes: 1, maxBytes: this.deps.fetchBytesMax,
      partitions: active.map((followed) => ({
        topic: followed.topic, partition: followed.partition, fetchOffset: followed.log.logEndOffset,
        partitionMaxBytes: perPartitionBytes, currentLeaderEpoch: followed.leaderEpoch,
      })),
    }, { timeoutMs: this.deps.fetchWaitMs + 30_000 });
    if (response.headerOnly) throw new SluiceError(errorNameOf(response.errorCode) ?? 'UNKNOWN_SERVER_ERROR', `Fetch: ${response.errorMessage ?? ''}`);
    for (const result of response.partitions) {
      const followed = this.followed.get(key(result.topic, result.partition));
      // Removed (or re-added at another epoch) while the fetch was out: its answer is stale.
      if (followed === undefined || !active.includes(followed)) continue;
      if (result.errorCode !== 0) {
        if (errorNameOf(result.errorCode) === 'OFFSET_OUT_OF_RANGE') {
          this.deps.logger.info({ topic: followed.topic, partition: followed.partition, leader: this.leader.brokerId, fetchOffset: followed.log.logEndOffset }, 'the leader has no such offset; asking for its epoch end again');
          followed.needsTruncation = true;
        } else {
          this.park(followed, result.errorCode);
        }
        continue;
      }
      if (followed.refusals > 0) {
        this.deps.logger.info({ topic: followed.topic, partition: followed.partition, leader: this.leader.brokerId, refusals: followed.refusals }, 'the leader serves this replica again');
        followed.refusals = 0;
      }
      await this.append(followed, result.records);
      const highWatermark = Math.min(result.highWatermark, followed.log.flushedOffset);
      if (highWatermark >= followed.log.logStartOffset && highWatermark !== followed.log.highWatermark) followed.log.updateHighWatermark(highWatermark);
    }
  }

  private async append(followed: Followed, records: Uint8Array): Promise<void> {
    // The leader may answer from the batch holding the offset asked for; skip what we have.
    let start = 0;
    while (start < records.length) {
      const framing = checkBatchFraming(records, start, this.deps.batchBytesMax);
      if (framing.kind !== 'valid') throw new SluiceError('CORRUPT_MESSAGE', `replica fetch of ${followed.topic}-${followed.partition} at byte ${start}: ${framing.kind === 'end' ? 'nothing' : framing.reason}`);
      const header = decodeBatchHeader(records, start);
      if (header.baseOffset + header.lastOffsetDelta >= followed.log.logEndOffset) break;
      start += framing.sizeBytes;
    }
    if (start < records.length) await followed.log.appendReplicated(records.subarray(start));
  }

  private park(followed: Followed, errorCode: number): void {
    const name = errorNameOf(errorCode) ?? 'UNKNOWN_SERVER_ERROR';
    // Only FENCED_LEADER_EPOCH says we are behind (newer metadata will re-add the partition).
    // Anything else — the leader has not yet seen its leadership (UNKNOWN_LEADER_EPOCH,
    // NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE while it takes the role), or the topic
    // (UNKNOWN_TOPIC_OR_PARTITION) — is asked again after a pause.
    if (name !== 'FENCED_LEADER_EPOCH') {
      this.retrySoon = true;
      followed.refusals += 1;
      const fields = { topic: followed.topic, partition: followed.partition, leader: this.leader.brokerId, leaderEpoch: followed.leaderEpoch, error: name, refusals: followed.refusals };
      if (followed.refusals === 1) this.deps.logger.info(fields, 'the leader asked this replica to come back later');
      else if (followed.refusals % FAILED_ROUNDS_WARN_EVERY === 0) this.deps.logger.warn(fields, 'the leader keeps refusing this replica; retrying');
      return;
    }
    followed.parked = name;
    this.deps.logger.info({ topic: followed.topic, partition: followed.partition, leader: this.leader.brokerId, error: name }, 'the leader refused this replica; waiting for newer metadata');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve(); };
    });
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
