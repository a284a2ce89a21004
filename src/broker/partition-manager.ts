import type { Logger } from 'pino';
import type { CreateTopicRequest, MetadataEvent, MetadataStore, TopicMetadata } from '../cluster/metadata-store.js';
import { SluiceError } from '../errors/sluice-error.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { parsePartitionDirName } from '../storage/segment-names.js';

/** A partition this broker leads: its log and the epoch to stamp into appended batches. */
export interface LeaderPartition {
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
}

/**
 * Joins cluster metadata (which topics exist, who leads each partition) to the local logs. The
 * metadata store is authoritative; the topic map here is a cache of it, refreshed by its watch,
 * and every local log exists because the metadata says this broker holds a replica.
 */
export class PartitionManager {
  private readonly topics = new Map<string, TopicMetadata>();
  private stopWatching: (() => void) | null = null;

  private constructor(
    private readonly logs: LogManager,
    private readonly metadata: MetadataStore,
    private readonly brokerId: number,
    private readonly logger: Logger,
  ) {}

  /** Loads the topics, opens (or creates) the logs this broker holds, and follows changes. */
  static async start(logs: LogManager, metadata: MetadataStore, brokerId: number, logger: Logger): Promise<PartitionManager> {
    const manager = new PartitionManager(logs, metadata, brokerId, logger);
    manager.stopWatching = await metadata.watch((event) => manager.onMetadataEvent(event));
    for (const topic of await metadata.listTopics()) await manager.adopt(topic);
    manager.warnAboutOrphans();
    return manager;
  }

  /** The log of a partition this broker leads, or the typed reason it cannot serve it. */
  leader(topic: string, partition: number): LeaderPartition {
    const state = this.topics.get(topic)?.partitions[partition];
    if (state === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`);
    if (state.leaderId === null) throw new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition}`);
    if (state.leaderId !== this.brokerId) throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition} is led by broker ${state.leaderId}`);
    const log = this.logs.log(topic, partition);
    if (log === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} has no local log yet`);
    return { log, leaderEpoch: state.leaderEpoch };
  }

  /** Topics by name (all of them when `names` is null); unknown names map to null. */
  describe(names: readonly string[] | null): Array<{ name: string; topic: TopicMetadata | null }> {
    if (names === null) return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name)).map((topic) => ({ name: topic.name, topic }));
    return names.map((name) => ({ name, topic: this.topics.get(name) ?? null }));
  }

  /** Creates a topic and, before returning, the logs of the partitions this broker holds. */
  async createTopic(request: CreateTopicRequest): Promise<TopicMetadata> {
    const topic = await this.metadata.createTopic(request);
    await this.adopt(topic);
    return topic;
  }

  /** Deletes a user topic and its local logs. Internal (`__`) topics cannot be deleted. */
  async deleteTopic(name: string): Promise<void> {
    if (name.startsWith('__')) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `${name} is an internal topic`);
    const topic = this.topics.get(name) ?? (await this.metadata.getTopic(name));
    await this.metadata.deleteTopic(name);
    if (topic !== null) await this.forget(topic);
  }

  /** Stops following metadata changes. */
  stop(): void {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  private async adopt(topic: TopicMetadata): Promise<void> {
    this.topics.set(topic.name, topic);
    for (const [partition, state] of topic.partitions.entries()) {
      if (state.replicas.includes(this.brokerId)) await this.logs.getOrCreateLog(topic.name, partition);
    }
  }

  private async forget(topic: TopicMetadata): Promise<void> {
    if (this.topics.get(topic.name)?.topicId === topic.topicId) this.topics.delete(topic.name);
    for (const partition of topic.partitions.keys()) await this.logs.deleteLog(topic.name, partition);
  }

  // Changes made through this broker were applied already; this catches the rest (and, with
  // etcd, other brokers' changes).
  private onMetadataEvent(event: MetadataEvent): void {
    if (event.kind === 'brokers-changed' || event.kind === 'controller-changed') return;
    const apply = async (): Promise<void> => {
      if (event.kind === 'topic-deleted') {
        const known = this.topics.get(event.topic);
        if (known !== undefined && known.topicId === event.topicId) await this.forget(known);
        return;
      }
      const topic = await this.metadata.getTopic(event.topic);
      if (topic !== null && topic.topicId === event.topicId) await this.adopt(topic);
    };
    apply().catch((error: unknown) => this.logger.error({ err: error, event }, 'could not apply a metadata change'));
  }

  private warnAboutOrphans(): void {
    for (const name of this.logs.partitions.keys()) {
      const parsed = parsePartitionDirName(name);
      if (parsed !== null && this.topics.get(parsed.topic)?.partitions[parsed.partition] === undefined) {
        this.logger.warn({ partitionDir: name }, 'a partition log on disk belongs to no known topic; it is kept but not served');
      }
    }
  }
}
