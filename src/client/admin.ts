import type { SluiceError } from '../errors/sluice-error.js';
import { ApiKey, type TopicResult } from '../protocol/index.js';
import { CONNECTION_SETTINGS, resolveSettings } from './client-config.js';
import { Connection, expectOk, type ConnectionOptions } from './connection.js';
import { SluiceClientError, errorFromCode } from './errors.js';
import { silentLogger } from './logger.js';
import {
  checkGroupId, commitOffsets, fetchCommittedOffsets, listOffsets,
  type CommittedOffset, type ListedOffset, type OffsetQuery, type OffsetToCommit, type TopicPartition,
} from './offsets.js';
import { checkWireString } from './record-input.js';

/**
 * Topic and offset administration over one connection: create, delete, list and describe topics
 * (Metadata), look up offsets (ListOffsets) and a group's committed offsets. The connection is
 * opened at the first call (or by connect()) and reopened after it is lost.
 */

export interface NewTopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Default 1 (a standalone broker accepts only 1). */
  readonly replicationFactor?: number;
}

/** The outcome of one topic of a create or delete: null, or the broker's typed error. */
export interface TopicOutcome {
  readonly name: string;
  readonly error: SluiceError | null;
}

export interface PartitionDescription {
  readonly partition: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** Non-null when the broker reports a problem with this partition. */
  readonly error: SluiceError | null;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: readonly PartitionDescription[];
}

export interface BrokerDescription {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
}

/** Topics whose names start with this are the broker's own (such as __consumer_offsets). */
const INTERNAL_TOPIC_PREFIX = '__';

export class Admin {
  private connection: Connection | null = null;
  private connecting: Promise<Connection> | null = null;

  constructor(private readonly options: ConnectionOptions) {
    resolveSettings(CONNECTION_SETTINGS, options, 'admin');
  }

  /** Opens the connection now instead of at the first call. */
  async connect(): Promise<void> {
    await this.connected();
  }

  /** Creates topics; resolves with each topic's outcome (an existing name is TOPIC_ALREADY_EXISTS). */
  async createTopics(topics: readonly NewTopicSpec[]): Promise<TopicOutcome[]> {
    for (const topic of topics) {
      checkWireString(topic.name, 'topic name');
      if (!Number.isInteger(topic.partitions)) throw new SluiceClientError('invalid-argument', `partitions ${topic.partitions} of ${topic.name}`);
    }
    const connection = await this.connected();
    const response = expectOk(await connection.request(ApiKey.CreateTopics, {
      topics: topics.map((topic) => ({ name: topic.name, partitionCount: topic.partitions, replicationFactor: topic.replicationFactor ?? 1 })),
    }));
    return outcomesOf(response.results);
  }

  /** Creates one topic; throws its typed error. */
  async createTopic(name: string, partitions: number, replicationFactor = 1): Promise<void> {
    const [outcome] = await this.createTopics([{ name, partitions, replicationFactor }]);
    if (outcome?.error) throw outcome.error;
  }

  /** Deletes topics; resolves with each topic's outcome. */
  async deleteTopics(names: readonly string[]): Promise<TopicOutcome[]> {
    names.forEach((name) => checkWireString(name, 'topic name'));
    const connection = await this.connected();
    const response = expectOk(await connection.request(ApiKey.DeleteTopics, { names: [...names] }));
    return outcomesOf(response.results);
  }

  /** Deletes one topic; throws its typed error. */
  async deleteTopic(name: string): Promise<void> {
    const [outcome] = await this.deleteTopics([name]);
    if (outcome?.error) throw outcome.error;
  }

  /** The names of all topics, sorted; the broker's internal ones only when asked. */
  async listTopics(options: { readonly includeInternal?: boolean } = {}): Promise<string[]> {
    const connection = await this.connected();
    const response = expectOk(await connection.request(ApiKey.Metadata, { allTopics: true, topics: [] }));
    return response.topics.map((topic) => topic.name)
      .filter((name) => options.includeInternal === true || !name.startsWith(INTERNAL_TOPIC_PREFIX))
      .sort();
  }

  /** Describes topics; an unknown one throws UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(names: readonly string[]): Promise<TopicDescription[]> {
    names.forEach((name) => checkWireString(name, 'topic name'));
    const connection = await this.connected();
    const response = expectOk(await connection.request(ApiKey.Metadata, { allTopics: false, topics: [...names] }));
    return names.map((name) => {
      const topic = response.topics.find((entry) => entry.name === name);
      if (topic === undefined) throw new SluiceClientError('protocol-violation', `Metadata response does not list ${name}`);
      if (topic.errorCode !== 0) throw errorFromCode(topic.errorCode, `topic ${name}`);
      return {
        name,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partition, leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch,
          replicas: partition.replicas, isr: partition.isr,
          error: partition.errorCode === 0 ? null : errorFromCode(partition.errorCode, `${name}/${partition.partition}`),
        })).sort((a, b) => a.partition - b.partition),
      };
    });
  }

  /** The brokers of the cluster as the broker knows them. */
  async describeCluster(): Promise<BrokerDescription[]> {
    const connection = await this.connected();
    const response = expectOk(await connection.request(ApiKey.Metadata, { allTopics: false, topics: [] }));
    return response.brokers.map(({ brokerId, host, port }) => ({ brokerId, host, port }));
  }

  /** Offsets by spec: 'earliest', 'latest' (the high watermark) or the first at or after { timestamp }. */
  async listOffsets(queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
    queries.forEach((query) => checkWireString(query.topic, 'topic'));
    return listOffsets(await this.connected(), queries);
  }

  /** A group's committed offsets (offset null where it committed none). */
  async fetchCommittedOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    checkGroupId(groupId);
    return fetchCommittedOffsets(await this.connected(), groupId, partitions);
  }

  /** Sets a group's committed offsets (a simple commit, as a consumer's commit()). */
  async commitOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    checkGroupId(groupId);
    await commitOffsets(await this.connected(), groupId, offsets);
  }

  close(): void {
    this.connection?.close();
    this.connection = null;
  }

  private connected(): Promise<Connection> {
    if (this.connection !== null && this.connection.isOpen) return Promise.resolve(this.connection);
    this.connecting ??= Connection.connect({ ...this.options, logger: this.options.logger ?? silentLogger }).then((connection) => {
      this.connection = connection;
      return connection;
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}

function outcomesOf(results: readonly TopicResult[]): TopicOutcome[] {
  return results.map((result) => ({
    name: result.name,
    error: result.errorCode === 0 ? null : errorFromCode(result.errorCode, result.errorMessage),
  }));
}
