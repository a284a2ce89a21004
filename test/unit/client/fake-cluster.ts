import type { WebSocketFactory } from '../../../src/client/transport.js';
import { ERROR_CODES, type ErrorName } from '../../../src/errors/index.js';
import { ApiKey, type RequestByApiKey, type ResponseByApiKey } from '../../../src/protocol/index.js';
import { offsetsPartitionFor } from '../../../src/group/offset-commit-record.js';
import { decodeBatchHeader, type RecordBatchHeader } from '../../../src/record/index.js';
import { FakeBroker, FakeSocket, OK } from './fake-broker.js';

/**
 * Several in-process fake brokers (test/unit/client/fake-broker.ts) that share one picture of a
 * cluster: which broker leads each partition (the test moves leaders at will), one log per
 * partition that every leader appends to (as if replicated), with the idempotent producer's
 * duplicate check, and brokers that can be taken down (their sockets close; new ones fail to
 * open). For unit tests of the client's routing and retry decisions; no network, no timers.
 *
 * Broker `id` listens at ws://broker<id>:9092; `urlOf(id)` gives it.
 */

export interface AppendedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly header: RecordBatchHeader;
  /** The broker that wrote it. */
  readonly brokerId: number;
  readonly baseOffset: number;
}

export class FakeCluster {
  readonly brokers = new Map<number, FakeBroker>();
  /** Leader per `topic/partition` (null: no leader, an election is under way). */
  readonly leaders = new Map<string, number | null>();
  readonly epochs = new Map<string, number>();
  readonly partitionCounts = new Map<string, number>();
  readonly appended: AppendedBatch[] = [];
  readonly commits: Array<{ brokerId: number; group: string; offsets: RequestByApiKey[typeof ApiKey.OffsetCommit]['offsets'] }> = [];
  /** Subscriptions granted, in order. */
  readonly subscriptions: Array<{ brokerId: number; subscriptionId: number; offset: number }> = [];
  private nextSubscriptionId = 1;
  private readonly down = new Set<number>();
  private readonly logEndOffsets = new Map<string, number>();
  private nextProducerId = 5000;

  constructor(brokerIds: readonly number[]) {
    for (const brokerId of brokerIds) this.brokers.set(brokerId, this.newBroker(brokerId));
  }

  urlOf(brokerId: number): string {
    return `ws://broker${brokerId}:9092`;
  }

  /** Creates a topic with partition p led by `leaderOf(p)`. */
  createTopic(name: string, partitionCount: number, leaderOf: (partition: number) => number | null): void {
    this.partitionCounts.set(name, partitionCount);
    for (let partition = 0; partition < partitionCount; partition++) this.moveLeader(name, partition, leaderOf(partition));
  }

  /** Elects a new leader (or none), bumping the leader epoch. */
  moveLeader(topic: string, partition: number, leaderId: number | null): void {
    const key = `${topic}/${partition}`;
    this.leaders.set(key, leaderId);
    this.epochs.set(key, (this.epochs.get(key) ?? -1) + 1);
  }

  /** Stops a broker: its open sockets close, new ones fail to open, Metadata no longer lists it. */
  stop(brokerId: number): void {
    this.down.add(brokerId);
    for (const socket of this.brokers.get(brokerId)!.sockets) socket.close(1006, 'broker stopped');
  }

  start(brokerId: number): void {
    this.down.delete(brokerId);
  }

  /** Opens a fake WebSocket to the broker the URL names (failing when it is down or unknown). */
  readonly factory: WebSocketFactory = (url) => {
    const brokerId = Number(/broker(\d+)/.exec(url)?.[1] ?? -1);
    const broker = this.brokers.get(brokerId);
    if (broker === undefined || this.down.has(brokerId)) {
      const dead = new FakeSocket(new FakeBroker(-1));
      queueMicrotask(() => {
        dead.emit('error', { message: 'ECONNREFUSED' });
        dead.close(1006, '');
      });
      return dead;
    }
    return broker.factory(url);
  };

  /** Requests of one kind that reached `brokerId`. */
  requestsAt<K extends ApiKey>(brokerId: number, apiKey: K): Array<RequestByApiKey[K]> {
    return this.brokers.get(brokerId)!.requestsOf(apiKey);
  }

  private newBroker(brokerId: number): FakeBroker {
    const broker = new FakeBroker(brokerId);
    broker.handlers[ApiKey.Metadata] = (request) => this.metadata(request);
    broker.handlers[ApiKey.InitProducerId] = () => ({ ...OK, producerId: this.nextProducerId++, producerEpoch: 0 });
    broker.handlers[ApiKey.Produce] = (request) => this.produce(brokerId, request);
    broker.handlers[ApiKey.OffsetCommit] = (request) => this.offsetCommit(brokerId, request);
    broker.handlers[ApiKey.Subscribe] = (request) => {
      if (this.leaders.get(`${request.topic}/${request.partition}`) !== brokerId) {
        return { headerOnly: true, errorCode: ERROR_CODES.NOT_LEADER_OR_FOLLOWER.code, errorMessage: null };
      }
      const subscriptionId = this.nextSubscriptionId++;
      this.subscriptions.push({ brokerId, subscriptionId, offset: request.offset });
      return { ...OK, subscriptionId, highWatermark: 0 };
    };
    return broker;
  }

  private metadata(request: RequestByApiKey[typeof ApiKey.Metadata]): ResponseByApiKey[typeof ApiKey.Metadata] {
    const live = [...this.brokers.keys()].filter((id) => !this.down.has(id));
    const names = request.allTopics ? [...this.partitionCounts.keys()] : request.topics;
    return {
      ...OK,
      brokers: live.map((brokerId) => ({ brokerId, host: `broker${brokerId}`, port: 9092 })),
      topics: names.map((name) => {
        const count = this.partitionCounts.get(name);
        if (count === undefined) return { errorCode: ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code, name, partitions: [] };
        return {
          errorCode: 0, name,
          partitions: Array.from({ length: count }, (_, partition) => {
            const leader = this.leaders.get(`${name}/${partition}`) ?? null;
            return {
              errorCode: leader === null ? ERROR_CODES.LEADER_NOT_AVAILABLE.code : 0, partition, leaderId: leader ?? -1,
              leaderEpoch: this.epochs.get(`${name}/${partition}`) ?? 0, replicas: live, isr: live,
            };
          }),
        };
      }),
    };
  }

  /** Appends at the leader; a batch whose producer id and sequence were written is answered with its original offset. */
  produce(brokerId: number, request: RequestByApiKey[typeof ApiKey.Produce]): ResponseByApiKey[typeof ApiKey.Produce] | null {
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partition, records }) => {
        const key = `${topic.name}/${partition}`;
        if (this.leaders.get(key) !== brokerId) return refusal(partition, 'NOT_LEADER_OR_FOLLOWER');
        const header = decodeBatchHeader(records, 0);
        const duplicate = this.appended.find((batch) => batch.topic === topic.name && batch.partition === partition && header.producer !== null
          && batch.header.producer?.producerId === header.producer.producerId && batch.header.producer.baseSequence === header.producer.baseSequence);
        if (duplicate !== undefined) return { partition, errorCode: 0, baseOffset: duplicate.baseOffset, logStartOffset: 0 };
        const baseOffset = this.logEndOffsets.get(key) ?? 0;
        let next = baseOffset;
        for (let position = 0; position < records.length;) {
          const batchHeader = decodeBatchHeader(records, position);
          this.appended.push({ topic: topic.name, partition, header: batchHeader, brokerId, baseOffset: next });
          next += batchHeader.recordCount;
          position += batchHeader.batchLength + 12;
        }
        this.logEndOffsets.set(key, next);
        return { partition, errorCode: 0, baseOffset, logStartOffset: 0 };
      }),
    }));
    return request.acks === 0 ? null : { ...OK, topics };
  }

  private offsetCommit(brokerId: number, request: RequestByApiKey[typeof ApiKey.OffsetCommit]): ResponseByApiKey[typeof ApiKey.OffsetCommit] {
    const offsetsPartitions = this.partitionCounts.get('__consumer_offsets');
    if (offsetsPartitions !== undefined && this.leaders.get(`__consumer_offsets/${offsetsPartitionFor(request.group, offsetsPartitions)}`) !== brokerId) {
      return { ...OK, results: request.offsets.map(({ topic, partition }) => ({ topic, partition, errorCode: ERROR_CODES.NOT_COORDINATOR.code })) };
    }
    this.commits.push({ brokerId, group: request.group, offsets: request.offsets });
    return { ...OK, results: request.offsets.map(({ topic, partition }) => ({ topic, partition, errorCode: 0 })) };
  }
}

function refusal(partition: number, errorName: ErrorName): { partition: number; errorCode: number; baseOffset: number; logStartOffset: number } {
  return { partition, errorCode: ERROR_CODES[errorName].code, baseOffset: -1, logStartOffset: -1 };
}
