import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { ApiKey, type MetadataResponse } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { runCli } from '../helpers/process.js';
import { WireClient } from '../helpers/wire-client.js';

// Three real brokers on one real etcd: a topic of RF 3 takes acks=all produce, and every
// replica's log ends up byte-identical, batch by batch.
const TOPIC = 'replicated';
const PARTITIONS = 3;
const BATCHES_PER_PARTITION = 40;
const RECORDS_PER_BATCH = 25;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3 });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

type FullMetadata = Exclude<MetadataResponse, { headerOnly: true }>;

async function metadataOf(port: number, topics: string[]): Promise<FullMetadata> {
  const client = await WireClient.ready(port);
  try {
    const response = await client.request(ApiKey.Metadata, { allTopics: false, topics });
    if (response.headerOnly) throw new Error(`metadata refused: ${response.errorCode}`);
    return response;
  } finally {
    client.close();
  }
}

/** Waits (bounded) until every partition of `topic` has a leader and an ISR of `isrSize`. */
async function waitForPartitions(topic: string, isrSize: number): Promise<FullMetadata> {
  let last: FullMetadata | null = null;
  for (let i = 0; i < 200; i++) {
    last = await metadataOf(cluster.port(cluster.brokerIds.find((id) => cluster.isRunning(id))!), [topic]);
    const partitions = last.topics[0]?.partitions ?? [];
    if (partitions.length > 0 && partitions.every((p) => p.leaderId >= 0 && p.isr.length === isrSize)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`partitions of ${topic} not ready: ${JSON.stringify(last?.topics)}`);
}

function batchOf(partition: number, index: number): Uint8Array {
  const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    key: new TextEncoder().encode(`p${partition}-k${index}-${i}`), value: new TextEncoder().encode(`value ${partition}/${index}/${i} `.padEnd(100, '.')), headers: [], timestamp: Date.now(),
  }));
  return encodeRecordBatch({ records });
}

describe('replication with three brokers', () => {
  it('acknowledges acks=all only when replicated, and leaves every replica byte-identical', async () => {
    const admin = await WireClient.ready(cluster.port(1));
    const created = await admin.request(ApiKey.CreateTopics, { topics: [{ name: TOPIC, partitionCount: PARTITIONS, replicationFactor: 3 }] });
    admin.close();
    if (created.headerOnly) throw new Error(`create refused: ${created.errorCode}`);
    expect(created.results[0]!.errorCode).toBe(0);
    const metadata = await waitForPartitions(TOPIC, 3);
    const partitions = metadata.topics[0]!.partitions;
    // Leaders spread: three partitions, three different preferred leaders.
    expect(new Set(partitions.map((p) => p.leaderId)).size).toBe(3);

    const acked = new Map<number, number[]>();
    for (const p of partitions) {
      const leader = await WireClient.ready(cluster.port(p.leaderId));
      const offsets: number[] = [];
      for (let index = 0; index < BATCHES_PER_PARTITION; index++) {
        const response = await leader.request(ApiKey.Produce, { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: p.partition, records: batchOf(p.partition, index) }] }] });
        if (response.headerOnly) throw new Error(`produce refused: ${response.errorCode}`);
        const result = response.topics[0]!.partitions[0]!;
        expect(result.errorCode).toBe(0);
        offsets.push(result.baseOffset);
      }
      leader.close();
      acked.set(p.partition, offsets);
    }
    for (const offsets of acked.values()) expect(offsets).toEqual(Array.from({ length: BATCHES_PER_PARTITION }, (_, i) => i * RECORDS_PER_BATCH));

    // A follower is not a leader: it refuses produce with NOT_LEADER_OR_FOLLOWER.
    const p0 = partitions[0]!;
    const follower = p0.replicas.find((id) => id !== p0.leaderId)!;
    const wrong = await WireClient.ready(cluster.port(follower));
    const refused = await wrong.request(ApiKey.Produce, { acks: -1, timeoutMs: 5_000, topics: [{ name: TOPIC, partitions: [{ partition: p0.partition, records: batchOf(0, 999) }] }] });
    wrong.close();
    if (refused.headerOnly) throw new Error(`produce refused whole: ${refused.errorCode}`);
    expect(refused.topics[0]!.partitions[0]!.errorCode).toBe(ERROR_CODES.NOT_LEADER_OR_FOLLOWER.code);

    // Every ack came from replication, not from a shrunk ISR: all three replicas are still in it.
    const after = await metadataOf(cluster.port(1), [TOPIC]);
    for (const p of after.topics[0]!.partitions) expect(p.isr).toHaveLength(3);

    // Stop cleanly and compare the logs on disk batch by batch.
    for (const id of cluster.brokerIds) await cluster.stopBroker(id);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const dumps: string[][] = [];
      for (const id of cluster.brokerIds) {
        const { code, stdout } = await runCli(['dump-log', '--json', '--verify', join(cluster.dataDir(id), `${TOPIC}-${partition}`)]);
        expect(code).toBe(0);
        const batches = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((entry) => entry['baseOffset'] !== undefined)
          .map(({ baseOffset, lastOffset, sizeBytes, crc, crcOk, partitionLeaderEpoch, recordCount }) => JSON.stringify({ baseOffset, lastOffset, sizeBytes, crc, crcOk, partitionLeaderEpoch, recordCount }));
        dumps.push(batches);
      }
      expect(dumps[0]).toHaveLength(BATCHES_PER_PARTITION);
      expect(dumps[1]).toEqual(dumps[0]);
      expect(dumps[2]).toEqual(dumps[0]);
    }
    for (const id of cluster.brokerIds) await cluster.startBroker(id);
    await cluster.waitForBrokers(3);
  }, 120_000);
});
