import { ApiKey, ListOffsetsSpec } from '../protocol/index.js';
import { groupByLeader } from './cluster-metadata.js';
import type { Cluster, RetryOptions } from './cluster.js';
import { expectOk, isNotServed, type Connection } from './connection.js';
import { OFFSETS_TOPIC } from './group-partition.js';
import { SluiceClientError, errorFromCode } from './errors.js';
import { checkWireString } from './record-input.js';

/**
 * Offset look-ups shared by Admin and Consumer: ListOffsets (earliest, latest, by timestamp) and
 * OffsetFetch / OffsetCommit (a group's committed offsets). The plain functions speak to one
 * connection; the `...Routed` ones go through the cluster: ListOffsets to each partition's
 * leader, OffsetFetch / OffsetCommit to the group's coordinator, retried after a leader or
 * coordinator moved or a connection was lost.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Which offset ListOffsets should find. */
export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };

export interface OffsetQuery extends TopicPartition {
  readonly spec: OffsetSpec;
}

export interface ListedOffset extends TopicPartition {
  /** The offset found; null when no record has a timestamp at or after the one asked. */
  readonly offset: number | null;
  /** The timestamp the broker reports with the offset (ms); this broker echoes the one asked. */
  readonly timestamp: number;
}

export interface CommittedOffset extends TopicPartition {
  /** The next offset the group will read, or null when it never committed one. */
  readonly offset: number | null;
  readonly metadata: string | null;
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (one past the last record processed), as in Kafka. */
  readonly offset: number;
  readonly metadata?: string | null;
}

/** ListOffsets for several partitions in one request; any partition's error throws. */
export async function listOffsets(connection: Connection, queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
  if (queries.length === 0) return [];
  const response = expectOk(await connection.request(ApiKey.ListOffsets, {
    partitions: queries.map((query) => ({ topic: query.topic, partition: query.partition, ...wireSpec(query.spec) })),
  }));
  return queries.map((query, index) => {
    // Results come in request order; the same partition may be asked for more than once.
    const atIndex = response.partitions[index];
    const result = atIndex !== undefined && atIndex.topic === query.topic && atIndex.partition === query.partition
      ? atIndex
      : response.partitions.find((entry) => entry.topic === query.topic && entry.partition === query.partition);
    if (result === undefined) throw new SluiceClientError('protocol-violation', `ListOffsets response has no ${query.topic}/${query.partition}`);
    if (result.errorCode !== 0) throw errorFromCode(result.errorCode, `${query.topic}/${query.partition}`);
    return { topic: query.topic, partition: query.partition, offset: result.found ? result.offset : null, timestamp: result.timestamp };
  });
}

function wireSpec(spec: OffsetSpec): { spec: number; timestamp: number } {
  if (spec === 'earliest') return { spec: ListOffsetsSpec.earliest, timestamp: 0 };
  if (spec === 'latest') return { spec: ListOffsetsSpec.latest, timestamp: 0 };
  if (typeof spec === 'object' && spec !== null && Number.isSafeInteger(spec.timestamp)) {
    return { spec: ListOffsetsSpec.byTimestamp, timestamp: spec.timestamp };
  }
  throw new SluiceClientError('invalid-argument', `offset spec ${JSON.stringify(spec)} is not 'earliest', 'latest' or { timestamp }`);
}

/**
 * A group's committed offsets. Throws not-served when the broker answers OffsetFetch with a
 * header-only INVALID_REQUEST (a broker from before committed offsets).
 */
export async function fetchCommittedOffsets(connection: Connection, group: string, partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
  const response = await connection.request(ApiKey.OffsetFetch, { group, partitions: partitions.map(({ topic, partition }) => ({ topic, partition })) });
  if (isNotServed(response)) {
    throw new SluiceClientError('not-served', `the broker does not serve OffsetFetch: ${response.errorMessage ?? 'INVALID_REQUEST'}`,
      { cause: errorFromCode(response.errorCode, response.errorMessage) });
  }
  const full = expectOk(response);
  return partitions.map(({ topic, partition }) => {
    const result = full.results.find((entry) => entry.topic === topic && entry.partition === partition);
    if (result === undefined) throw new SluiceClientError('protocol-violation', `OffsetFetch response has no ${topic}/${partition}`);
    if (result.errorCode !== 0) throw errorFromCode(result.errorCode, `${topic}/${partition}`);
    return { topic, partition, offset: result.found ? result.offset : null, metadata: result.found ? result.metadata : null };
  });
}

/**
 * Commits offsets for a group as a simple commit (generation -1, no member id: group membership
 * is not served yet). Resolves when the broker has them durably; throws not-served when the
 * broker does not serve OffsetCommit, or the first partition's typed error.
 */
export async function commitOffsets(connection: Connection, group: string, offsets: readonly OffsetToCommit[]): Promise<void> {
  if (offsets.length === 0) return;
  for (const entry of offsets) {
    if (!Number.isSafeInteger(entry.offset) || entry.offset < 0) {
      throw new SluiceClientError('invalid-argument', `offset ${entry.offset} for ${entry.topic}/${entry.partition} must be a non-negative integer`);
    }
  }
  const response = await connection.request(ApiKey.OffsetCommit, {
    group, generationId: -1, memberId: '',
    offsets: offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, offset: entry.offset, metadata: entry.metadata ?? null })),
  });
  if (isNotServed(response)) {
    throw new SluiceClientError('not-served', `the broker does not serve OffsetCommit: ${response.errorMessage ?? 'INVALID_REQUEST'}`,
      { cause: errorFromCode(response.errorCode, response.errorMessage) });
  }
  const failed = expectOk(response).results.find((result) => result.errorCode !== 0);
  if (failed !== undefined) throw errorFromCode(failed.errorCode, `commit of ${failed.topic}/${failed.partition} for group ${group}`);
}

/** Checks a group id before it reaches the wire (the codec asserts string lengths). */
export function checkGroupId(group: unknown): asserts group is string {
  checkWireString(group, 'groupId');
}

/** ListOffsets with each partition asked of its leader (one request per leader), retried after routing errors. */
export async function listOffsetsRouted(cluster: Cluster, queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
  if (queries.length === 0) return [];
  const topics = [...new Set(queries.map((query) => query.topic))];
  return cluster.retrying(topics, async () => {
    await cluster.ensureTopics(topics);
    const { byLeader } = groupByLeader(queries, (query) => cluster.leaderFor(query.topic, query.partition));
    const found = new Map<OffsetQuery, ListedOffset>();
    await Promise.all([...byLeader].map(async ([leaderId, group]) => {
      const listed = await listOffsets(await cluster.pool.connectionTo(leaderId), group);
      group.forEach((query, index) => found.set(query, listed[index]!));
    }));
    return queries.map((query) => found.get(query)!);
  });
}

/** A group's committed offsets, asked of its coordinator (retried after NOT_COORDINATOR or a lost connection). */
export function fetchCommittedOffsetsRouted(cluster: Cluster, group: string, partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
  return cluster.retrying([OFFSETS_TOPIC], async () => fetchCommittedOffsets(await cluster.coordinatorConnection(group), group, partitions));
}

/**
 * Commits offsets at the group's coordinator, retried after NOT_COORDINATOR or a lost
 * connection (a commit is idempotent: the same offsets again leave the same state).
 */
export function commitOffsetsRouted(cluster: Cluster, group: string, offsets: readonly OffsetToCommit[], options: RetryOptions = {}): Promise<void> {
  if (offsets.length === 0) return Promise.resolve();
  return cluster.retrying([OFFSETS_TOPIC], async () => commitOffsets(await cluster.coordinatorConnection(group), group, offsets), options);
}
