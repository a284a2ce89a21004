import { describe, expect, it } from 'vitest';
import { ClusterMetadata, groupByLeader } from '../../../src/client/cluster-metadata.js';
import { ERROR_CODES } from '../../../src/errors/index.js';

/** The client's cache of brokers and partition leaders: what makes a topic routable, and when it must be refreshed. */

const brokers = [{ brokerId: 1, host: 'a', port: 1 }, { brokerId: 2, host: 'b', port: 2 }];

function partition(index: number, leaderId: number, leaderEpoch: number, errorCode = 0): { errorCode: number; partition: number; leaderId: number; leaderEpoch: number; replicas: number[]; isr: number[] } {
  return { errorCode, partition: index, leaderId, leaderEpoch, replicas: [1, 2], isr: [1, 2] };
}

describe('the cluster metadata cache', () => {
  it('routes each partition to the leader the last response named, and knows the brokers and partition counts', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(1, 2, 0), partition(0, 1, 0)] }] }, 0);
    expect([metadata.leaderOf('t', 0), metadata.leaderOf('t', 1), metadata.leaderOf('t', 2)]).toEqual([1, 2, null]);
    expect(metadata.partitionCountOf('t')).toBe(2);
    expect(metadata.addressOf(2)).toEqual({ brokerId: 2, host: 'b', port: 2 });
    expect(metadata.topicsToRefresh(['t', 'u'])).toEqual(['u']);
  });

  it('has no leader for a partition under election or led by a broker the response did not list, and wants it refreshed', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, -1, 3, ERROR_CODES.LEADER_NOT_AVAILABLE.code), partition(1, 9, 0)] }] }, 0);
    expect([metadata.leaderOf('t', 0), metadata.leaderOf('t', 1)]).toEqual([null, null]);
    expect(metadata.topicsToRefresh(['t'])).toEqual(['t']);
  });

  it('keeps an unknown topic as an answer (no partitions, its error), not as something to refresh before routing', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [{ errorCode: ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code, name: 'gone', partitions: [] }] }, 0);
    expect(metadata.partitionCountOf('gone')).toBeNull();
    expect(metadata.topicErrorOf('gone')).toBe(ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code);
    expect(metadata.topicsToRefresh(['gone'])).toEqual([]);
    metadata.forgetTopic('gone');
    expect(metadata.topicsToRefresh(['gone'])).toEqual(['gone']);
  });

  it('never goes back to an older leader epoch (a broker that has not heard of the election yet)', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 2, 5)] }] }, 0);
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 1, 4)] }] }, 1);
    expect([metadata.leaderOf('t', 0), metadata.leaderEpochOf('t', 0)]).toEqual([2, 5]);
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 1, 6)] }] }, 2);
    expect([metadata.leaderOf('t', 0), metadata.leaderEpochOf('t', 0)]).toEqual([1, 6]);
    // Once forgotten (a broker did not know the topic: deleted), a new topic of that name starts at epoch 0.
    metadata.forgetTopic('t');
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 2, 0)] }] }, 3);
    expect([metadata.leaderOf('t', 0), metadata.leaderEpochOf('t', 0)]).toEqual([2, 0]);
  });

  it('makes a topic unroutable when marked stale (a leader error) or when its leader broker is lost, until the next response', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [
      { errorCode: 0, name: 't', partitions: [partition(0, 1, 0)] },
      { errorCode: 0, name: 'u', partitions: [partition(0, 2, 0)] },
    ] }, 0);
    metadata.markStale('t');
    expect([metadata.leaderOf('t', 0), metadata.partitionCountOf('t')]).toEqual([null, 1]);
    expect(metadata.topicsToRefresh(['t', 'u'])).toEqual(['t']);
    expect(metadata.markBrokerStale(2)).toEqual(['u']);
    expect(metadata.topicsToRefresh(['t', 'u'])).toEqual(['t', 'u']);
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 2, 1)] }] }, 1);
    expect(metadata.leaderOf('t', 0)).toBe(2);
  });

  it('names routable topics older than metadataMaxAgeMs as due for a background refresh', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [{ errorCode: 0, name: 't', partitions: [partition(0, 1, 0)] }] }, 1_000);
    expect(metadata.topicsDueForRefresh(['t'], 1_999, 1_000)).toEqual([]);
    expect(metadata.topicsDueForRefresh(['t'], 2_000, 1_000)).toEqual(['t']);
    expect(metadata.leaderOf('t', 0)).toBe(1);
  });

  it('keeps the last broker list when a response lists none', () => {
    const metadata = new ClusterMetadata();
    metadata.apply({ brokers, topics: [] }, 0);
    metadata.apply({ brokers: [], topics: [] }, 1);
    expect(metadata.brokers().map((broker) => broker.brokerId)).toEqual([1, 2]);
  });
});

describe('grouping work by leader', () => {
  it('splits items by their leader, keeping order, and sets aside those without one', () => {
    const leaders = new Map([['a', 1], ['b', 2], ['c', 1]]);
    const { byLeader, leaderless } = groupByLeader(['a', 'b', 'x', 'c'], (item) => leaders.get(item) ?? null);
    expect([...byLeader]).toEqual([[1, ['a', 'c']], [2, ['b']]]);
    expect(leaderless).toEqual(['x']);
  });
});
