import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { ApiKey, type EpochEndOffsetResult, type FetchPartitionResult, type OffsetForLeaderEpochPartition } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

/**
 * Leader epochs through a real broker process: OffsetForLeaderEpoch and the currentLeaderEpoch
 * checks of Fetch over the wire, and the leader-epoch-checkpoint file across a clean restart, a
 * SIGKILL and its deletion. A standalone broker leads at epoch 0; a newer epoch is what a
 * controller would write, so the test writes it into the stopped broker's cluster-metadata.json
 * (the standalone store's authoritative file, format in src/cluster/standalone-metadata-store.ts).
 */

const TOPIC = 'epochs';
const encoder = new TextEncoder();

let dataDir: string;
let cleanup: () => Promise<void>;
let broker: CliProcess | null = null;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-epochs-'));
});

afterAll(async () => {
  if (broker !== null) await broker.stop('SIGKILL');
  await cleanup();
});

async function startBroker(): Promise<{ client: WireClient; port: number }> {
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
  const port = (await broker.waitForLog('broker started')).port as number;
  return { client: await WireClient.ready(port), port };
}

async function stopBroker(client: WireClient, signal: NodeJS.Signals): Promise<void> {
  client.close();
  const code = await broker!.stop(signal);
  if (signal === 'SIGTERM') expect(code).toBe(0);
  broker = null;
}

async function produce(client: WireClient, values: readonly string[]): Promise<void> {
  for (const value of values) {
    const records = encodeRecordBatch({ records: [0, 1].map((i) => ({ key: null, value: encoder.encode(`${value}-${i}`), headers: [], timestamp: 1_700_000_000_000 })) });
    const response = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records }] }] });
    if (response.headerOnly) throw new Error(`produce: ${response.errorMessage}`);
    expect(response.topics[0]!.partitions[0]!.errorCode).toBe(0);
  }
}

async function endOffsets(client: WireClient, partitions: Array<Partial<OffsetForLeaderEpochPartition> & { leaderEpoch: number }>): Promise<EpochEndOffsetResult[]> {
  const response = await client.request(ApiKey.OffsetForLeaderEpoch, {
    replicaId: 1,
    partitions: partitions.map((asked) => ({ topic: TOPIC, partition: 0, currentLeaderEpoch: -1, ...asked })),
  });
  if (response.headerOnly) throw new Error(`OffsetForLeaderEpoch: ${response.errorMessage}`);
  return [...response.partitions];
}

async function fetchWithEpochs(client: WireClient, epochs: Array<number | undefined>): Promise<FetchPartitionResult[]> {
  const response = await client.request(ApiKey.Fetch, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
    partitions: epochs.map((currentLeaderEpoch, index) => ({
      topic: TOPIC, partition: index % 2, fetchOffset: 0, partitionMaxBytes: 1 << 20,
      ...(currentLeaderEpoch === undefined ? {} : { currentLeaderEpoch }),
    })),
  });
  if (response.headerOnly) throw new Error(`Fetch: ${response.errorMessage}`);
  return [...response.partitions];
}

function checkpointFile(): string {
  return join(dataDir, `${TOPIC}-0`, 'leader-epoch-checkpoint');
}

// What a controller does on failover: bump the partition's leader epoch (here, with the broker stopped).
async function bumpLeaderEpoch(leaderEpoch: number): Promise<void> {
  const path = join(dataDir, 'cluster-metadata.json');
  const metadata = JSON.parse(await readFile(path, 'utf8')) as { topics: Array<{ name: string; partitions: Array<{ leaderEpoch: number }> }> };
  metadata.topics.find((topic) => topic.name === TOPIC)!.partitions[0]!.leaderEpoch = leaderEpoch;
  await writeFile(path, JSON.stringify(metadata));
}

const code = (name: keyof typeof ERROR_CODES): number => ERROR_CODES[name].code;
const UNDEFINED = { leaderEpoch: -1, endOffset: -1 };

describe('leader epochs through a broker process', () => {
  it('answers OffsetForLeaderEpoch and checks currentLeaderEpoch, then keeps its epoch checkpoint across restarts and a SIGKILL', async () => {
    let { client } = await startBroker();
    const created = await client.request(ApiKey.CreateTopics, { topics: [{ name: TOPIC, partitionCount: 2, replicationFactor: 1 }] });
    expect(created.headerOnly).toBe(false);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    if (metadata.headerOnly) throw new Error('metadata');
    expect(metadata.controllerId).toBe(0);
    await produce(client, ['a', 'b', 'c']);

    // Epoch 0, the only one: it ends at the log end (3 batches of 2 records).
    expect(await endOffsets(client, [
      { leaderEpoch: 0, currentLeaderEpoch: 0 },
      { leaderEpoch: 4 },
      { leaderEpoch: 0, currentLeaderEpoch: 1 },
      { leaderEpoch: 0, partition: 7 },
    ])).toEqual([
      { topic: TOPIC, partition: 0, errorCode: 0, leaderEpoch: 0, endOffset: 6 },
      { topic: TOPIC, partition: 0, errorCode: 0, ...UNDEFINED },
      { topic: TOPIC, partition: 0, errorCode: code('UNKNOWN_LEADER_EPOCH'), ...UNDEFINED },
      { topic: TOPIC, partition: 7, errorCode: code('UNKNOWN_TOPIC_OR_PARTITION'), ...UNDEFINED },
    ]);
    // Fetch: a newer epoch than the leader's is refused for that partition only.
    const fetched = await fetchWithEpochs(client, [1, undefined, 0]);
    expect(fetched.map((result) => [result.partition, result.errorCode])).toEqual([[0, code('UNKNOWN_LEADER_EPOCH')], [1, 0], [0, 0]]);
    expect(fetched[0]!.records.length).toBe(0);
    expect(fetched[2]!.records.length).toBeGreaterThan(0);
    expect(await readFile(checkpointFile(), 'utf8')).toBe('0\n1\n0 0\n');
    await stopBroker(client, 'SIGTERM');

    // A new leadership at epoch 3: older epochs are fenced, newer unknown; appends are stamped 3.
    await bumpLeaderEpoch(3);
    ({ client } = await startBroker());
    const afterBump = await fetchWithEpochs(client, [2, 4, 3]);
    expect(afterBump.map((result) => [result.partition, result.errorCode])).toEqual([[0, code('FENCED_LEADER_EPOCH')], [1, code('UNKNOWN_LEADER_EPOCH')], [0, 0]]);
    expect(afterBump[2]!.records.length).toBeGreaterThan(0);
    expect(await endOffsets(client, [{ leaderEpoch: 0, currentLeaderEpoch: 2 }])).toEqual([{ topic: TOPIC, partition: 0, errorCode: code('FENCED_LEADER_EPOCH'), ...UNDEFINED }]);
    await produce(client, ['d']);
    expect(await readFile(checkpointFile(), 'utf8')).toBe('0\n2\n0 0\n3 6\n');
    const expected = [
      { topic: TOPIC, partition: 0, errorCode: 0, leaderEpoch: 0, endOffset: 6 },
      { topic: TOPIC, partition: 0, errorCode: 0, leaderEpoch: 0, endOffset: 6 },
      { topic: TOPIC, partition: 0, errorCode: 0, leaderEpoch: 3, endOffset: 8 },
    ];
    const askAll = [{ leaderEpoch: 0, currentLeaderEpoch: 3 }, { leaderEpoch: 2 }, { leaderEpoch: 3, currentLeaderEpoch: 3 }];
    expect(await endOffsets(client, askAll)).toEqual(expected);

    // Killed, its checkpoint deleted: the next start rebuilds it from the batches' epochs.
    await stopBroker(client, 'SIGKILL');
    await rm(checkpointFile());
    ({ client } = await startBroker());
    expect(await broker!.waitForLog('partition log loaded', 10_000, { topic: TOPIC, partition: 0 })).toMatchObject({ leaderEpochs: 'rebuilt', latestEpoch: 3 });
    expect(await readFile(checkpointFile(), 'utf8')).toBe('0\n2\n0 0\n3 6\n');
    expect(await endOffsets(client, askAll)).toEqual(expected);

    // A clean restart reads the checkpoint instead.
    await stopBroker(client, 'SIGTERM');
    ({ client } = await startBroker());
    expect(await broker!.waitForLog('partition log loaded', 10_000, { topic: TOPIC, partition: 0 })).toMatchObject({ leaderEpochs: 'checkpoint', latestEpoch: 3 });
    expect(await endOffsets(client, askAll)).toEqual(expected);
    await stopBroker(client, 'SIGTERM');
  });
});
