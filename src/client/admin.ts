import type { SluiceError } from '../errors/sluice-error.js';
import { ApiKey, DEFAULT_MIN_INSYNC_REPLICAS, type MetadataResponse, type TopicResult } from '../protocol/index.js';
import { Cluster, type ClientOptions } from './cluster.js';
import { expectOk, type Connection } from './connection.js';
import { SluiceClientError, errorFromCode, isSluiceClientError } from './errors.js';
import {
  checkGroupId, commitOffsetsRouted, fetchCommittedOffsetsRouted, listOffsetsRouted,
  type CommittedOffset, type ListedOffset, type OffsetQuery, type OffsetToCommit, type TopicPartition,
} from './offsets.js';
import { checkWireString } from './record-input.js';

/**
 * Topic and offset administration of a cluster: create, delete, list and describe topics
 * (Metadata, from any broker), look up offsets (ListOffsets, at each partition's leader) and a
 * group's committed offsets (at its coordinator). Connections are opened at the first call (or by
 * connect()) and reopened after they are lost. Reads are retried after a lost connection or a
 * leader change; CreateTopics and DeleteTopics only when they could not be sent at all (a
 * connection that closed under them may have carried them, and a repeat would answer
 * TOPIC_ALREADY_EXISTS or UNKNOWN_TOPIC_OR_PARTITION).
 */

export interface NewTopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Default 1 (a standalone broker accepts only 1). */
  readonly replicationFactor?: number;
  /** acks=all is refused while fewer replicas are in sync; within [1, replicationFactor]. Default: the broker's (1). */
  readonly minInsyncReplicas?: number;
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
  private readonly cluster: Cluster;

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(options, 'admin');
  }

  /** Opens a connection to a broker now instead of at the first call. */
  async connect(): Promise<void> {
    await this.anyBroker((connection) => Promise.resolve(connection));
  }

  /** Creates topics; resolves with each topic's outcome (an existing name is TOPIC_ALREADY_EXISTS). */
  async createTopics(topics: readonly NewTopicSpec[]): Promise<TopicOutcome[]> {
    for (const topic of topics) {
      checkWireString(topic.name, 'topic name');
      if (!Number.isInteger(topic.partitions)) throw new SluiceClientError('invalid-argument', `partitions ${topic.partitions} of ${topic.name}`);
      checkI16(topic.replicationFactor, 'replicationFactor', topic.name);
      checkI16(topic.minInsyncReplicas, 'minInsyncReplicas', topic.name);
    }
    const response = await this.anyBroker(async (connection) => expectOk(await connection.request(ApiKey.CreateTopics, {
      topics: topics.map((topic) => ({
        name: topic.name, partitionCount: topic.partitions, replicationFactor: topic.replicationFactor ?? 1,
        minInsyncReplicas: topic.minInsyncReplicas ?? DEFAULT_MIN_INSYNC_REPLICAS,
      })),
    })), unsentOnly);
    return outcomesOf(response.results);
  }

  /** Creates one topic; throws its typed error (INVALID_CONFIG for a minInsyncReplicas above the replication factor). */
  async createTopic(name: string, partitions: number, replicationFactor = 1, options: { readonly minInsyncReplicas?: number } = {}): Promise<void> {
    const [outcome] = await this.createTopics([{ name, partitions, replicationFactor, ...options }]);
    if (outcome?.error) throw outcome.error;
  }

  /** Deletes topics; resolves with each topic's outcome. */
  async deleteTopics(names: readonly string[]): Promise<TopicOutcome[]> {
    names.forEach((name) => checkWireString(name, 'topic name'));
    const response = await this.anyBroker(async (connection) => expectOk(await connection.request(ApiKey.DeleteTopics, { names: [...names] })), unsentOnly);
    for (const name of names) this.cluster.metadata.forgetTopic(name);
    return outcomesOf(response.results);
  }

  /** Deletes one topic; throws its typed error. */
  async deleteTopic(name: string): Promise<void> {
    const [outcome] = await this.deleteTopics([name]);
    if (outcome?.error) throw outcome.error;
  }

  /** The names of all topics, sorted; the broker's internal ones only when asked. */
  async listTopics(options: { readonly includeInternal?: boolean } = {}): Promise<string[]> {
    const response = await this.metadataOf({ allTopics: true, topics: [] });
    return response.topics.map((topic) => topic.name)
      .filter((name) => options.includeInternal === true || !name.startsWith(INTERNAL_TOPIC_PREFIX))
      .sort();
  }

  /** Describes topics; an unknown one throws UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(names: readonly string[]): Promise<TopicDescription[]> {
    names.forEach((name) => checkWireString(name, 'topic name'));
    const response = await this.metadataOf({ allTopics: false, topics: [...names] });
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
    const response = await this.metadataOf({ allTopics: false, topics: [] });
    return response.brokers.map(({ brokerId, host, port }) => ({ brokerId, host, port }));
  }

  /** Offsets by spec: 'earliest', 'latest' (the high watermark) or the first at or after { timestamp }. */
  async listOffsets(queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
    queries.forEach((query) => checkWireString(query.topic, 'topic'));
    return listOffsetsRouted(this.cluster, queries);
  }

  /** A group's committed offsets (offset null where it committed none). */
  async fetchCommittedOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    checkGroupId(groupId);
    return fetchCommittedOffsetsRouted(this.cluster, groupId, partitions);
  }

  /** Sets a group's committed offsets (a simple commit, as a consumer's commit()). */
  async commitOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    checkGroupId(groupId);
    await commitOffsetsRouted(this.cluster, groupId, offsets);
  }

  /** Closes every connection. */
  close(): void {
    this.cluster.close();
  }

  // Metadata from any broker; what it says about the topics also updates the routes.
  private async metadataOf(request: { allTopics: boolean; topics: string[] }): Promise<MetadataResponse> {
    const response = await this.anyBroker(async (connection) => expectOk(await connection.request(ApiKey.Metadata, request)));
    this.cluster.metadata.apply(response, Date.now());
    return response;
  }

  // A request any broker answers, retried on another (or the same, back) after a lost connection.
  private anyBroker<T>(request: (connection: Connection) => Promise<T>, retryWhen?: (error: unknown) => boolean): Promise<T> {
    return this.cluster.retrying([], async () => request(await this.cluster.anyConnection()), { retryWhen: retryWhen ?? transportOnly });
  }
}

// Topic-level errors of Metadata are answers, not reasons to retry; only transport failures are.
const transportOnly = (error: unknown): boolean => isSluiceClientError(error);
// A request that changes state is repeated only when it never left the client.
const unsentOnly = (error: unknown): boolean => isSluiceClientError(error, 'connect-failed');

// The wire carries these as i16: a value it cannot hold is the caller's mistake, not the broker's to judge.
function checkI16(value: number | undefined, field: string, topic: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff)) {
    throw new SluiceClientError('invalid-argument', `${field} ${value} of ${topic}`);
  }
}

function outcomesOf(results: readonly TopicResult[]): TopicOutcome[] {
  return results.map((result) => ({
    name: result.name,
    error: result.errorCode === 0 ? null : errorFromCode(result.errorCode, result.errorMessage),
  }));
}
