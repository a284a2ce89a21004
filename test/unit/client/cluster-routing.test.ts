import { describe, expect, it } from 'vitest';
import { Admin } from '../../../src/client/admin.js';
import { Consumer, type ConsumerRecord } from '../../../src/client/consumer.js';
import { Producer, type ProducerOptions } from '../../../src/client/producer.js';
import { ERROR_CODES } from '../../../src/errors/index.js';
import { offsetsPartitionFor } from '../../../src/group/offset-commit-record.js';
import { ApiKey } from '../../../src/protocol/index.js';
import { encodeRecordBatch, stampBatch } from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { OK } from './fake-broker.js';
import { FakeCluster } from './fake-cluster.js';

/**
 * How the client follows a cluster, against in-process fake brokers that share leaders and
 * logs (test/unit/client/fake-cluster.ts): every request reaches the partition's leader or the
 * group's coordinator, and after a leader moves or a broker goes, the client refreshes metadata
 * and retries there — the idempotent producer with the very same producer id and sequences.
 */

const SEED = 0xc105_7e4;

function producerOf(cluster: FakeCluster, options: Partial<ProducerOptions> = {}): Producer {
  return new Producer({
    brokers: [cluster.urlOf(1)], webSocketFactory: cluster.factory, random: mulberry32(SEED),
    lingerMs: 0, retryBackoffMs: 1, retryBackoffMsMax: 2, ...options,
  });
}

describe('the producer in a cluster', () => {
  it("sends each partition's batches to its leader, one request per leader, learning brokers from one bootstrap URL", async () => {
    const cluster = new FakeCluster([1, 2]);
    cluster.createTopic('t', 4, (partition) => (partition % 2 === 0 ? 1 : 2));
    const producer = producerOf(cluster, { lingerMs: 60_000 });
    const sends = Array.from({ length: 20 }, (_, index) => producer.send({ topic: 't', value: `v${index}`, partition: index % 4 }));
    await producer.flush();
    await Promise.all(sends);
    const partitionsAt = (brokerId: number): number[] => cluster.requestsAt(brokerId, ApiKey.Produce).flatMap((request) => request.topics[0]!.partitions.map((p) => p.partition));
    expect(partitionsAt(1)).toEqual([0, 2]);
    expect(partitionsAt(2)).toEqual([1, 3]);
    expect(cluster.appended.map((batch) => [batch.partition, batch.brokerId, batch.header.recordCount])).toEqual(
      expect.arrayContaining([[0, 1, 5], [1, 2, 5], [2, 1, 5], [3, 2, 5]]));
    expect(cluster.requestsAt(2, ApiKey.Metadata)).toHaveLength(0);
    expect(cluster.brokers.get(1)!.sockets).toHaveLength(1);
    expect(cluster.brokers.get(2)!.sockets).toHaveLength(1);
    await producer.close();
  });

  it('after NOT_LEADER_OR_FOLLOWER refreshes metadata and resends the same batch (same producer id and sequence) to the new leader', async () => {
    const cluster = new FakeCluster([1, 2]);
    cluster.createTopic('t', 1, () => 1);
    const producer = producerOf(cluster);
    await expect(producer.send({ topic: 't', value: 'first' })).resolves.toMatchObject({ offset: 0 });
    cluster.moveLeader('t', 0, 2);
    await expect(producer.send({ topic: 't', value: 'second' })).resolves.toMatchObject({ offset: 1 });
    const refused = cluster.requestsAt(1, ApiKey.Produce)[1]!.topics[0]!.partitions[0]!.records;
    const accepted = cluster.requestsAt(2, ApiKey.Produce)[0]!.topics[0]!.partitions[0]!.records;
    expect(accepted).toEqual(refused);
    expect(cluster.appended.map((batch) => [batch.brokerId, batch.header.producer?.producerId, batch.header.producer?.baseSequence])).toEqual([[1, 5000n, 0], [2, 5000n, 1]]);
    expect(cluster.requestsAt(1, ApiKey.InitProducerId).length + cluster.requestsAt(2, ApiKey.InitProducerId).length).toBe(1);
    await producer.close();
  });

  it('a batch the old leader wrote before dying is answered by the new leader as a duplicate: written once, acknowledged with its first offset', async () => {
    const cluster = new FakeCluster([1, 2]);
    cluster.createTopic('t', 1, () => 1);
    const leader = cluster.brokers.get(1)!;
    leader.handlers[ApiKey.Produce] = (request) => {
      cluster.produce(1, request); // written and replicated ...
      cluster.moveLeader('t', 0, 2);
      cluster.stop(1); // ... but the leader dies before it answers
      return null;
    };
    const producer = producerOf(cluster);
    await expect(producer.send({ topic: 't', value: 'once' })).resolves.toMatchObject({ offset: 0 });
    expect(cluster.appended).toHaveLength(1);
    const resent = cluster.requestsAt(2, ApiKey.Produce);
    expect(resent).toHaveLength(1);
    expect(resent[0]!.topics[0]!.partitions[0]!.records).toEqual(leader.requestsOf(ApiKey.Produce)[0]!.topics[0]!.partitions[0]!.records);
    // The metadata refresh went through the surviving broker.
    expect(cluster.requestsAt(2, ApiKey.Metadata).length).toBeGreaterThan(0);
    await producer.close();
  });

  it('skips a dead bootstrap URL and uses the next', async () => {
    const cluster = new FakeCluster([1]);
    cluster.createTopic('t', 1, () => 1);
    const producer = producerOf(cluster, { brokers: [cluster.urlOf(7), cluster.urlOf(1)] });
    await expect(producer.send({ topic: 't', value: 'x' })).resolves.toMatchObject({ offset: 0 });
    await producer.close();
  });

  it('treats FENCED_LEADER_EPOCH (code 74, known by number) as a leader change: refresh, then retry', async () => {
    const cluster = new FakeCluster([1]);
    cluster.createTopic('t', 1, () => 1);
    let fenced = false;
    cluster.brokers.get(1)!.handlers[ApiKey.Produce] = (request) => {
      if (fenced) return cluster.produce(1, request);
      fenced = true;
      return { ...OK, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 74, baseOffset: -1, logStartOffset: -1 }] }] };
    };
    const producer = producerOf(cluster);
    await expect(producer.send({ topic: 't', value: 'x' })).resolves.toMatchObject({ offset: 0 });
    expect(cluster.requestsAt(1, ApiKey.Metadata)).toHaveLength(2);
    expect(cluster.appended).toHaveLength(1);
    await producer.close();
  });

  it('waits for a partition without a leader, and fails its sends with LEADER_NOT_AVAILABLE once `retries` are spent', async () => {
    const cluster = new FakeCluster([1]);
    cluster.createTopic('t', 2, (partition) => (partition === 0 ? null : 1));
    const producer = producerOf(cluster, { retries: 3 });
    const stuck = producer.send({ topic: 't', value: 'x', partition: 0 });
    await expect(producer.send({ topic: 't', value: 'y', partition: 1 })).resolves.toMatchObject({ offset: 0 });
    await expect(stuck).rejects.toMatchObject({ errorName: 'LEADER_NOT_AVAILABLE' });
    expect(cluster.requestsAt(1, ApiKey.Metadata).length).toBeGreaterThanOrEqual(4);
    cluster.moveLeader('t', 0, 1);
    await expect(producer.send({ topic: 't', value: 'z', partition: 0 })).resolves.toMatchObject({ offset: 0 });
    await producer.close();
  });
});

describe('committed offsets in a cluster', () => {
  it("go to the group's coordinator (the leader of its __consumer_offsets partition) and follow it when it moves", async () => {
    const cluster = new FakeCluster([1, 2]);
    cluster.createTopic('__consumer_offsets', 4, (partition) => 1 + (partition % 2));
    const group = 'billing';
    const offsetsPartition = offsetsPartitionFor(group, 4);
    const coordinator = 1 + (offsetsPartition % 2);
    const admin = new Admin({ brokers: [cluster.urlOf(1)], webSocketFactory: cluster.factory, retryBackoffMs: 1, retryBackoffMsMax: 2 });
    await admin.commitOffsets(group, [{ topic: 't', partition: 0, offset: 7 }]);
    cluster.moveLeader('__consumer_offsets', offsetsPartition, 3 - coordinator);
    await admin.commitOffsets(group, [{ topic: 't', partition: 0, offset: 9 }]);
    expect(cluster.commits.map((commit) => [commit.brokerId, commit.offsets[0]!.offset])).toEqual([[coordinator, 7], [3 - coordinator, 9]]);
    const refusedAt = cluster.requestsAt(coordinator, ApiKey.OffsetCommit);
    expect(refusedAt).toHaveLength(2); // the second answered NOT_COORDINATOR
    admin.close();
  });
});

describe('the consumer in a cluster', () => {
  it('subscribes at the leader, and after the leader moves resubscribes at the new one from the next offset not received: no gap, no repeat', async () => {
    const cluster = new FakeCluster([1, 2]);
    cluster.createTopic('t', 1, () => 1);
    const consumer = new Consumer({ brokers: [cluster.urlOf(2)], webSocketFactory: cluster.factory, from: 0, retryBackoffMs: 1, retryBackoffMsMax: 2 });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(cluster.subscriptions).toEqual([{ brokerId: 1, subscriptionId: 1, offset: 0 }]);
    cluster.brokers.get(1)!.push(1, { errorCode: 0, highWatermark: 3, nextOffset: 3, records: batchAt(0, ['a', 'b', 'c']) });
    const seen: ConsumerRecord[] = [];
    const iterator = consumer.records({ signal: AbortSignal.timeout(10_000) });
    for (let index = 0; index < 2; index++) seen.push((await iterator.next()).value as ConsumerRecord);

    cluster.moveLeader('t', 0, 2);
    cluster.brokers.get(1)!.push(1, { errorCode: ERROR_CODES.NOT_LEADER_OR_FOLLOWER.code, highWatermark: 3, nextOffset: 3, records: new Uint8Array(0) });
    seen.push((await iterator.next()).value as ConsumerRecord);
    for (let wait = 0; wait < 100 && cluster.subscriptions.length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(cluster.subscriptions[1]).toMatchObject({ brokerId: 2, offset: 3 });
    cluster.brokers.get(2)!.push(cluster.subscriptions[1]!.subscriptionId, { errorCode: 0, highWatermark: 5, nextOffset: 5, records: batchAt(2, ['c', 'd', 'e']) });
    for (let index = 0; index < 2; index++) seen.push((await iterator.next()).value as ConsumerRecord);
    expect(seen.map((record) => [record.offset, new TextDecoder().decode(record.value!)])).toEqual([[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd'], [4, 'e']]);
    await consumer.close();
  });
});

/** A stored batch of `values` from `baseOffset` on (as a leader would push it). */
function batchAt(baseOffset: number, values: readonly string[]): Uint8Array {
  const batch = encodeRecordBatch({ records: values.map((value) => ({ key: null, value: new TextEncoder().encode(value), headers: [], timestamp: 0 })), producer: null });
  stampBatch(batch, baseOffset, 0);
  return batch;
}
