import { assert } from '../errors/assert.js';
import type { MetadataResponse } from '../protocol/index.js';

/**
 * The client's picture of the cluster: which brokers there are, where they listen, and which
 * broker leads each partition of the topics the client uses. Derived, never authoritative: it
 * is filled from Metadata responses (any broker may answer) and thrown away piece by piece when a
 * broker says a route is wrong. Pure: no I/O, time comes in as arguments (the refreshing is
 * src/client/cluster.ts), so the rules below are unit-tested with plain values.
 *
 * Rules:
 * - A topic is *usable* when it is known, not marked stale, and every partition has a leader
 *   that the same response listed as a live broker. Otherwise a caller must refresh it before
 *   routing to it (`topicsToRefresh`).
 * - A topic older than `metadataMaxAgeMs` is still usable but due for a refresh in the
 *   background (`topicsDueForRefresh`), so a new leader is found even without an error.
 * - Leader epochs only go forward: a response carrying an older epoch for a partition than the
 *   one cached (a broker that has not heard of the election yet) does not replace it.
 * - `markStale` (after NOT_LEADER_OR_FOLLOWER, a lost connection, ...) makes a topic unusable
 *   until the next refresh; `forgetTopic` (it was deleted) drops it with its epochs.
 */

/** A broker as a Metadata response lists it. */
export interface BrokerAddress {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
}

/** The route to one partition. */
export interface PartitionRoute {
  /** null when there is none right now (an election is under way) or it is not a listed broker. */
  readonly leaderId: number | null;
  readonly leaderEpoch: number;
}

interface TopicEntry {
  /** 0, or the topic's error in the last response (UNKNOWN_TOPIC_OR_PARTITION). */
  readonly errorCode: number;
  /** Index = partition number. */
  readonly partitions: readonly PartitionRoute[];
  readonly refreshedAtMs: number;
  stale: boolean;
}

export class ClusterMetadata {
  private brokersById = new Map<number, BrokerAddress>();
  private readonly topics = new Map<string, TopicEntry>();

  /** Takes in a Metadata response received at `nowMs`. */
  apply(response: Pick<MetadataResponse, 'brokers' | 'topics'>, nowMs: number): void {
    // A response lists the live brokers; an empty list says nothing about them.
    if (response.brokers.length > 0) {
      this.brokersById = new Map(response.brokers.map((broker) => [broker.brokerId, { brokerId: broker.brokerId, host: broker.host, port: broker.port }]));
    }
    for (const topic of response.topics) {
      const cached = this.topics.get(topic.name);
      const partitions: PartitionRoute[] = [];
      for (const metadata of [...topic.partitions].sort((a, b) => a.partition - b.partition)) {
        const previous = cached?.partitions[metadata.partition];
        if (previous !== undefined && metadata.leaderEpoch < previous.leaderEpoch) {
          partitions[metadata.partition] = previous;
          continue;
        }
        const leaderKnown = metadata.errorCode === 0 && metadata.leaderId >= 0 && this.brokersById.has(metadata.leaderId);
        partitions[metadata.partition] = { leaderId: leaderKnown ? metadata.leaderId : null, leaderEpoch: metadata.leaderEpoch };
      }
      // Partitions are numbered densely from 0; a response with a hole is treated as leaderless there.
      for (let index = 0; index < partitions.length; index++) partitions[index] ??= { leaderId: null, leaderEpoch: -1 };
      this.topics.set(topic.name, { errorCode: topic.errorCode, partitions, refreshedAtMs: nowMs, stale: false });
    }
  }

  /** The leader of a partition, or null when unknown, stale or leaderless. */
  leaderOf(topic: string, partition: number): number | null {
    const entry = this.topics.get(topic);
    if (entry === undefined || entry.stale) return null;
    return entry.partitions[partition]?.leaderId ?? null;
  }

  /** The leader epoch last seen for a partition, or null. */
  leaderEpochOf(topic: string, partition: number): number | null {
    return this.topics.get(topic)?.partitions[partition]?.leaderEpoch ?? null;
  }

  /** The partition count of a known topic, or null when the topic is not known (or had an error). */
  partitionCountOf(topic: string): number | null {
    const entry = this.topics.get(topic);
    if (entry === undefined || entry.errorCode !== 0) return null;
    return entry.partitions.length;
  }

  /** The topic's error code in the last response that listed it (0 for none), or null when never listed. */
  topicErrorOf(topic: string): number | null {
    return this.topics.get(topic)?.errorCode ?? null;
  }

  /** Where a broker listens, or null when the last response did not list it. */
  addressOf(brokerId: number): BrokerAddress | null {
    return this.brokersById.get(brokerId) ?? null;
  }

  /** Every broker the last response listed. */
  brokers(): BrokerAddress[] {
    return [...this.brokersById.values()];
  }

  /** Of `topics`, those that must be refreshed before a request can be routed: unknown, stale or with a leaderless partition. */
  topicsToRefresh(topics: Iterable<string>): string[] {
    const due: string[] = [];
    for (const topic of new Set(topics)) {
      const entry = this.topics.get(topic);
      if (entry === undefined || entry.stale || entry.partitions.some((route) => route.leaderId === null)) due.push(topic);
    }
    return due;
  }

  /** Of `topics`, the usable ones older than `maxAgeMs` at `nowMs` (refresh them, but they may be used meanwhile). */
  topicsDueForRefresh(topics: Iterable<string>, nowMs: number, maxAgeMs: number): string[] {
    assert(maxAgeMs > 0, `metadataMaxAgeMs ${maxAgeMs}`);
    const due: string[] = [];
    for (const topic of new Set(topics)) {
      const entry = this.topics.get(topic);
      if (entry !== undefined && !entry.stale && nowMs - entry.refreshedAtMs >= maxAgeMs) due.push(topic);
    }
    return due;
  }

  /** The known topics whose routes are no longer usable until a refresh (a broker said so). */
  markStale(topic: string): void {
    const entry = this.topics.get(topic);
    if (entry !== undefined) entry.stale = true;
  }

  /** Marks stale every topic with a partition led by `brokerId` (its connection was lost). */
  markBrokerStale(brokerId: number): string[] {
    const marked: string[] = [];
    for (const [name, entry] of this.topics) {
      if (entry.partitions.some((route) => route.leaderId === brokerId)) {
        entry.stale = true;
        marked.push(name);
      }
    }
    return marked;
  }

  /** Drops a topic and its leader epochs (it was deleted, or a broker no longer knows it). */
  forgetTopic(topic: string): void {
    this.topics.delete(topic);
  }

  /** The topics cached, usable or not. */
  knownTopics(): string[] {
    return [...this.topics.keys()];
  }
}

/**
 * Splits items by the broker that must receive them: `leaderOf` gives an item's leader, or null
 * when it has none usable (those items wait for a metadata refresh). Order within a group is kept.
 */
export function groupByLeader<T>(items: Iterable<T>, leaderOf: (item: T) => number | null): { byLeader: Map<number, T[]>; leaderless: T[] } {
  const byLeader = new Map<number, T[]>();
  const leaderless: T[] = [];
  for (const item of items) {
    const leader = leaderOf(item);
    if (leader === null) {
      leaderless.push(item);
      continue;
    }
    let group = byLeader.get(leader);
    if (group === undefined) {
      group = [];
      byLeader.set(leader, group);
    }
    group.push(item);
  }
  return { byLeader, leaderless };
}
