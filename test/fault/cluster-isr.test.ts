import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { WireClient } from '../helpers/wire-client.js';

// ISR under a hung follower: 3 brokers, RF 3, minInsyncReplicas 2. A follower paused past
// replicaLagTimeMaxMs leaves the ISR and acks=all still succeeds on the other two; resumed, it
// catches up, rejoins the ISR, and its log is then byte-identical to the leader's.
const TOPIC = 'isr';
const REPLICA_LAG_TIME_MAX_MS = 3_000;

let cluster: TestCluster;

function batchOf(index: number): Uint8Array {
  const records = Array.from({ length: 10 }, (_, i) => ({
    key: new TextEncoder().encode(`k${index}-${i}`), value: new TextEncoder().encode(`value ${index}/${i} `.padEnd(80, '.')), headers: [], timestamp: Date.now(),
  }));
  return encodeRecordBatch({ records });
}

async function isrOf(): Promise<{ leaderId: number; leaderEpoch: number; isr: number[]; replicas: number[] }> {
  const metadata = await cluster.metadata([TOPIC]);
  const p = metadata.topics[0]!.partitions[0]!;
  return { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, isr: [...p.isr].sort(), replicas: [...p.replicas] };
}

/** Pauses a follower of an RF 3 minISR 2 partition until it leaves the ISR; checks acks=all, its return, and the logs. */
async function hungFollowerScenario(): Promise<void> {
    await cluster.createTopic(TOPIC, 1, 3, { minInsyncReplicas: 2 });
    const initial = await cluster.waitFor('a leader and a full ISR', async () => {
      const state = await isrOf();
      return state.leaderId >= 0 && state.isr.length === 3 ? state : undefined;
    });
    const leaderId = initial.leaderId;
    const follower = initial.replicas.find((id) => id !== leaderId)!;
    const producer = await WireClient.ready(cluster.port(leaderId));
    let index = 0;
    const produce = async (): Promise<{ errorCode: number; baseOffset: number }> => {
      const response = await producer.request(ApiKey.Produce, { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records: batchOf(index++) }] }] });
      if (response.headerOnly) throw new Error(`produce refused: ${response.errorCode}`);
      return response.topics[0]!.partitions[0]!;
    };
    // The leader may still be taking up its role (LEADER_NOT_AVAILABLE) when Metadata names it.
    await cluster.waitFor('the leader to take a first acks=all produce', async () => ((await produce()).errorCode === 0 ? true : undefined));
    for (let i = 0; i < 19; i++) expect((await produce()).errorCode).toBe(0);

    // Hung follower: it keeps its sockets but fetches nothing. The leader drops it from the ISR.
    await cluster.pause(follower);
    const shrunk = await cluster.waitFor('the paused follower to leave the ISR', async () => {
      const state = await isrOf();
      return state.isr.length === 2 && !state.isr.includes(follower) ? state : undefined;
    }, 20_000);
    expect(shrunk.leaderId).toBe(leaderId);
    expect(shrunk.leaderEpoch).toBe(initial.leaderEpoch);
    // Two in-sync replicas = minInsyncReplicas: acks=all is still answered, by the two of them.
    for (let i = 0; i < 20; i++) expect((await produce()).errorCode).toBe(0);

    cluster.resume(follower);
    // Resumed (and registered again if its session ended), it catches up and rejoins the ISR.
    await cluster.waitFor('the resumed follower to rejoin the ISR', async () => {
      const state = await isrOf();
      return state.isr.length === 3 ? state : undefined;
    }, 30_000);
    for (let i = 0; i < 10; i++) expect((await produce()).errorCode).toBe(0);
    producer.close();
    const final = await isrOf();
    expect(final.leaderId).toBe(leaderId);
    expect(final.isr).toHaveLength(3);

    // The acks=all answers above mean the three hold everything; compare their logs on disk.
    for (const id of cluster.brokerIds) await cluster.stopBroker(id);
    const leaderBatches = await cluster.dumpBatches(leaderId, TOPIC, 0);
    expect(leaderBatches).toHaveLength(50);
    for (const id of cluster.brokerIds) expect(await cluster.dumpBatches(id, TOPIC, 0)).toEqual(leaderBatches);
}

describe('ISR with a follower hung past replicaLagTimeMaxMs but within its session', () => {
  // The session outlives the pause, so the controller never sees the follower die: the shrink
  // can only be the leader's, from the follower's fetches (isr-rules.ts).
  beforeAll(async () => {
    cluster = await TestCluster.start({ brokers: 3, brokerSessionTimeoutMs: 15_000, replicaLagTimeMaxMs: REPLICA_LAG_TIME_MAX_MS });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('the leader shrinks the ISR, acks=all goes on with two, and the follower rejoins caught up and byte-identical', async () => {
    await hungFollowerScenario();
  }, 120_000);

  it('with both followers hung, an acks=all append made before the shrink is not acknowledged on one copy; later ones are refused', async () => {
    const topic = 'isr-both';
    // The test before stopped the brokers to read their logs.
    for (const id of cluster.brokerIds) if (!cluster.isRunning(id)) await cluster.startBroker(id);
    await cluster.waitForBrokers(3);
    await cluster.createTopic(topic, 1, 3, { minInsyncReplicas: 2 });
    const state = await cluster.waitFor('a leader and a full ISR', async () => {
      const p = (await cluster.metadata([topic])).topics[0]?.partitions[0];
      return p !== undefined && p.leaderId >= 0 && p.isr.length === 3 ? p : undefined;
    });
    const followers = state.replicas.filter((id) => id !== state.leaderId);
    const client = await WireClient.ready(cluster.port(state.leaderId));
    const produce = async (index: number, timeoutMs: number): Promise<number> => {
      const response = await client.request(ApiKey.Produce, { acks: -1, timeoutMs, topics: [{ name: topic, partitions: [{ partition: 0, records: batchOf(index) }] }] }, timeoutMs + 10_000);
      if (response.headerOnly) throw new Error(`produce refused: ${response.errorCode}`);
      return response.topics[0]!.partitions[0]!.errorCode;
    };
    await cluster.waitFor('a first acks=all produce', async () => ((await produce(0, 10_000)) === 0 ? true : undefined));
    for (const id of followers) await cluster.pause(id);
    // Written while the ISR is still full; the ISR then shrinks to the leader alone (lag rule).
    const pending = produce(1, 3 * REPLICA_LAG_TIME_MAX_MS);
    await cluster.waitFor('the ISR to shrink to the leader', async () => {
      const p = (await cluster.metadata([topic], state.leaderId)).topics[0]!.partitions[0]!;
      return p.isr.length === 1 ? true : undefined;
    }, 20_000);
    // One copy is below minInsyncReplicas 2: no success; it times out (written, outcome unknown).
    expect(await pending).toBe(ERROR_CODES.REQUEST_TIMED_OUT.code);
    expect(await produce(2, 5_000)).toBe(ERROR_CODES.NOT_ENOUGH_REPLICAS.code);
    for (const id of followers) cluster.resume(id);
    await cluster.waitFor('the followers to rejoin the ISR', async () => {
      const p = (await cluster.metadata([topic], state.leaderId)).topics[0]!.partitions[0]!;
      return p.isr.length === 3 ? true : undefined;
    }, 30_000);
    expect(await produce(3, 10_000)).toBe(0);
    client.close();
  }, 120_000);
});

describe('ISR with a follower hung past its session', () => {
  beforeAll(async () => {
    cluster = await TestCluster.start({ brokers: 3, brokerSessionTimeoutMs: 2_000, replicaLagTimeMaxMs: REPLICA_LAG_TIME_MAX_MS });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('the follower leaves the ISR, acks=all goes on with two, and it registers again, rejoins caught up and byte-identical', async () => {
    await hungFollowerScenario();
  }, 120_000);
});
