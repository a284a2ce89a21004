import type { Cluster } from './cluster.js';
import { SluiceClientError, isSluiceClientError } from './errors.js';
import type { ClientLogger } from './logger.js';
import { commitOffsetsRouted, type OffsetToCommit, type TopicPartition } from './offsets.js';

/** An assigned partition's positions, as commits see them. */
export interface CommitPosition extends TopicPartition {
  /** The next offset whose predecessors the application has finished with: what is committed. */
  readonly consumed: number;
  /** The offset last committed from this consumer, or null. */
  committed: number | null;
}

/** What commits need from the consumer around them. */
export interface ConsumerCommitsDeps {
  readonly cluster: Cluster;
  readonly groupId: string | null;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly logger: ClientLogger;
  /** The assigned partitions' positions. */
  readonly positions: () => Iterable<CommitPosition>;
  /** One assigned partition's position, or undefined when it is not assigned. */
  readonly positionOf: (topic: string, partition: number) => CommitPosition | undefined;
}

/**
 * A consumer's commits of its group's offsets, at the group's coordinator: commit() when the
 * application asks, and with auto-commit every `autoCommitIntervalMs` and once on close, of the
 * partitions whose consumed position moved since their last commit. A broker that does not serve
 * OffsetCommit turns auto-commit off (with a warning) and makes commit() throw not-served.
 */
export class ConsumerCommits {
  private autoCommit: boolean;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private servedValue = true;

  constructor(private readonly deps: ConsumerCommitsDeps) {
    this.autoCommit = deps.autoCommit;
    if (this.autoCommit && deps.groupId === null) throw new SluiceClientError('invalid-argument', 'autoCommit needs a groupId');
  }

  /** False once a broker answered OffsetFetch or OffsetCommit as not served. */
  get served(): boolean {
    return this.servedValue;
  }

  /** A broker answered OffsetFetch as not served. */
  markNotServed(): void {
    this.servedValue = false;
  }

  /** Commits `offsets`, by default the consumed position of every assigned partition. */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    if (this.deps.groupId === null) throw new SluiceClientError('invalid-argument', 'commit() needs a groupId');
    const entries = offsets ?? [...this.deps.positions()].map((position) => ({ topic: position.topic, partition: position.partition, offset: position.consumed }));
    await this.commitWith(this.deps.groupId, entries);
  }

  /** Starts the auto-commit timer, if auto-commit is on and it is not running. */
  arm(): void {
    if (!this.autoCommit || this.timer !== null || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.commitChanged().finally(() => this.arm());
    }, this.deps.autoCommitIntervalMs);
  }

  /**
   * Stops auto-commit; with it on and the consumer still `connected`, commits what moved, in one
   * attempt (a consumer whose brokers are gone closes at once).
   */
  async close(connected: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.autoCommit && connected) await this.commitChanged(0);
  }

  // `retries` 0 tries once; undefined retries as the cluster's settings say.
  private async commitWith(groupId: string, entries: readonly OffsetToCommit[], retries?: number): Promise<void> {
    try {
      await commitOffsetsRouted(this.deps.cluster, groupId, entries, retries === undefined ? {} : { retries });
    } catch (error) {
      if (isSluiceClientError(error, 'not-served')) this.servedValue = false;
      throw error;
    }
    for (const entry of entries) {
      const position = this.deps.positionOf(entry.topic, entry.partition);
      if (position !== undefined) position.committed = entry.offset;
    }
  }

  private async commitChanged(retries?: number): Promise<void> {
    const groupId = this.deps.groupId;
    const changed = [...this.deps.positions()].filter((position) => position.consumed !== position.committed);
    if (changed.length === 0 || groupId === null) return;
    try {
      await this.commitWith(groupId, changed.map((position) => ({ topic: position.topic, partition: position.partition, offset: position.consumed })), retries);
    } catch (error) {
      if (isSluiceClientError(error, 'not-served')) {
        this.autoCommit = false;
        this.deps.logger.warn({ groupId }, `${error.message}: auto-commit is off`);
        return;
      }
      this.deps.logger.warn({ groupId, err: error }, 'auto-commit failed; will try again');
    }
  }
}
