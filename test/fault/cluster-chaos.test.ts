import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { TestCluster, type DumpedBatch, type DumpedRecord } from '../helpers/cluster.js';

// The chaos test of issue 6: 3 brokers, a topic of 6 partitions RF 3 minInsyncReplicas 2,
// idempotent acks=all producers and a committing consumer running while brokers are SIGKILLed
// (often the leader of a busy partition, sometimes the controller) and restarted, or SIGSTOPped
// past their session (a stale leader) and resumed. Every acknowledged record must then be in the
// log exactly once, at the offset it was acknowledged at; replicas identical; no offset gaps;
// committed offsets never move back. Bounded: SLUICE_CHAOS_MS of faults (default 120 s).
const TOPIC = 'chaos';
const PARTITIONS = 6;
const PRODUCERS = 3;
const SESSION_TIMEOUT_MS = 2_000;
const CHAOS_MS = Number(process.env['SLUICE_CHAOS_MS'] ?? 120_000);
const IN_FLIGHT_PER_PRODUCER = 20;
const GROUP = 'chaos-readers';
const FAULTS_MAX = 1_000;
const HEALTHY_TIMEOUT_MS = 60_000;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, brokerSessionTimeoutMs: SESSION_TIMEOUT_MS, replicaLagTimeMaxMs: 3_000 });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

interface Acked {
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
}

/** Seeded xorshift, so that a failing run's fault sequence can be replayed with SLUICE_CHAOS_SEED. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('chaos: kills, restarts and stale leaders under acks=all produce', () => {
  it('loses no acknowledged record, duplicates none, and keeps replicas identical', async () => {
    const seed = Number(process.env['SLUICE_CHAOS_SEED'] ?? Date.now() % 1_000_000);
    const random = rng(seed);
    console.log(JSON.stringify({ chaosSeed: seed }));
    const startedMs = Date.now();
    await cluster.createTopic(TOPIC, PARTITIONS, 3, { minInsyncReplicas: 2 });
    await waitHealthy();

    const clientOptions = { brokers: cluster.urls(), webSocketFactory: nodeWebSocket, retries: 100, retryBackoffMs: 100, retryBackoffMsMax: 500 };
    const acked: Acked[] = [];
    const ackedPerPartition = new Array<number>(PARTITIONS).fill(0);
    const sendFailures = new Map<string, number>();
    let lastAckMs = Date.now();
    let longestGapMs = 0;
    let measuring = false;
    let producing = true;

    // Producers: each keeps IN_FLIGHT_PER_PRODUCER sends out; a record is in the ledger once acknowledged.
    const producers = Array.from({ length: PRODUCERS }, () => new Producer({ ...clientOptions, acks: 'all', lingerMs: 5, produceTimeoutMs: 10_000 }));
    const producerLoops = producers.map(async (producer, index) => {
      let sequence = 0;
      const inFlight = new Set<Promise<void>>();
      while (producing && Date.now() - startedMs < CHAOS_MS + 600_000) {
        const key = `p${index}-${String(sequence++).padStart(8, '0')}`;
        const sent = producer.send({ topic: TOPIC, key, value: `value of ${key}` }).then((metadata) => {
          const now = Date.now();
          if (measuring) longestGapMs = Math.max(longestGapMs, now - lastAckMs);
          lastAckMs = now;
          acked.push({ key, partition: metadata.partition, offset: metadata.offset! });
          ackedPerPartition[metadata.partition]! += 1;
        }, (error: unknown) => {
          const name = (error as { errorName?: string; reason?: string }).errorName ?? (error as { reason?: string }).reason ?? String(error);
          sendFailures.set(name, (sendFailures.get(name) ?? 0) + 1);
        }).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        if (inFlight.size >= IN_FLIGHT_PER_PRODUCER) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    });

    // The consumer reads everything, committing as it goes; a sampler checks commits never go back.
    const admin = new Admin(clientOptions);
    const consumed = new Map<string, { partition: number; offset: number }>();
    let consumedDuplicates = 0;
    const consumer = new Consumer({ ...clientOptions, groupId: GROUP, fallbackPosition: 'earliest', autoCommitIntervalMs: 500, reconnectAttemptsMax: 1_000 });
    await consumer.subscribe([TOPIC]);
    let consumerError: unknown = null;
    const consumerLoop = (async () => {
      try {
        for await (const record of consumer) {
          const key = new TextDecoder().decode(record.key!);
          if (consumed.has(key)) consumedDuplicates += 1;
          consumed.set(key, { partition: record.partition, offset: record.offset });
        }
      } catch (error) {
        consumerError = error;
      }
    })();
    const committedSeen = new Array<number>(PARTITIONS).fill(-1);
    const commitRegressions: string[] = [];
    let commitSamples = 0;
    let sampling = true;
    const samplerLoop = (async () => {
      for (let i = 0; sampling && i < 100_000; i++) {
        try {
          const offsets = await admin.fetchCommittedOffsets(GROUP, Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
          commitSamples += 1;
          for (const { partition, offset } of offsets) {
            if (offset === null) continue;
            if (offset < committedSeen[partition]!) commitRegressions.push(`partition ${partition}: ${committedSeen[partition]} then ${offset}`);
            committedSeen[partition] = Math.max(committedSeen[partition]!, offset);
          }
        } catch {
          // The coordinator is moving; the next sample asks again.
        }
        await sleep(500);
      }
    })();

    // The faults.
    const faults = { killLeader: 0, killController: 0, killOther: 0, pauseLeader: 0, pauseController: 0, pauseFollower: 0, killTwo: 0, withoutFullIsr: 0 };
    measuring = true;
    lastAckMs = Date.now();
    const chaosStartMs = Date.now();
    let ackedAtLastFault = [...ackedPerPartition];
    try {
      for (let round = 0; round < FAULTS_MAX && Date.now() - chaosStartMs < CHAOS_MS; round++) {
        const metadata = await cluster.metadata([TOPIC]);
        const partitions = metadata.topics[0]!.partitions;
        // The busiest partition: most records acknowledged since the previous fault.
        const since = (partition: number): number => ackedPerPartition[partition]! - ackedAtLastFault[partition]!;
        const busiest = [...partitions].filter((p) => p.leaderId > 0).sort((a, b) => since(b.partition) - since(a.partition))[0] ?? partitions[0]!;
        ackedAtLastFault = [...ackedPerPartition];
        const dice = random();
        const controllerId = metadata.controllerId ?? -1;
        if (dice < 0.15 && busiest.leaderId > 0) {
          // A stale leader: paused past its session, the cluster moves on; it must not acknowledge what is then lost.
          faults.pauseLeader += 1;
          await pauseFor(busiest.leaderId, SESSION_TIMEOUT_MS + 1_000 + Math.floor(random() * 2_000));
        } else if (dice < 0.22 && controllerId > 0) {
          // A stale controller: its writes must fail their compare-and-swap.
          faults.pauseController += 1;
          await pauseFor(controllerId, SESSION_TIMEOUT_MS + 1_000 + Math.floor(random() * 2_000));
        } else if (dice < 0.3) {
          // A hung follower, shorter than its session: it leaves the ISR (lag) and comes back.
          const follower = busiest.isr.find((id) => id !== busiest.leaderId) ?? busiest.replicas.find((id) => id !== busiest.leaderId)!;
          faults.pauseFollower += 1;
          await pauseFor(follower, 1_000 + Math.floor(random() * 1_000));
        } else if (dice < 0.4 && busiest.leaderId > 0) {
          // Two down at once: partitions whose ISR was those two have nobody to lead (minISR 2
          // refuses the rest) until one of them is back; the controller must wait for an ISR
          // member rather than elect the survivor.
          const other = cluster.brokerIds.filter((id) => id !== busiest.leaderId)[Math.floor(random() * 2)]!;
          faults.killTwo += 1;
          await cluster.kill(busiest.leaderId);
          await cluster.kill(other);
          await sleep(Math.floor(random() * 3_000));
          await cluster.startBroker(other);
          await cluster.startBroker(busiest.leaderId);
        } else {
          let id: number;
          if (dice < 0.65 && busiest.leaderId > 0) {
            id = busiest.leaderId;
            faults.killLeader += 1;
          } else if (dice < 0.85 && controllerId > 0) {
            id = controllerId;
            faults.killController += 1;
          } else {
            id = cluster.brokerIds[Math.floor(random() * cluster.brokerIds.length)]!;
            faults.killOther += 1;
          }
          await cluster.kill(id);
          await sleep(Math.floor(random() * 3_000));
          await cluster.startBroker(id);
        }
        // Back to all brokers up. Mostly the next fault waits until every ISR is full again;
        // sometimes only until every broker is registered, so that a leader can die while the
        // broker just restarted is still catching up (ISR of 2: elections from what is left).
        if (random() < 0.7) {
          await waitHealthy();
        } else {
          faults.withoutFullIsr += 1;
          await cluster.waitForBrokers(3, HEALTHY_TIMEOUT_MS);
        }
        await sleep(500 + Math.floor(random() * 1_500));
      }
    } catch (error) {
      await saveLogsFor(error);
      throw error;
    }
    measuring = false;
    const chaosMs = Date.now() - chaosStartMs;

    producing = false;
    await Promise.race([Promise.all(producerLoops), sleep(120_000)]);
    await Promise.all(producers.map((producer) => producer.close(30_000).catch(() => null)));
    try {
      await waitHealthy();
    } catch (error) {
      await saveLogsFor(error);
      throw error;
    }
    // Let the consumer reach the end (bounded), then stop it and the sampler.
    const consumerCaughtUp = await cluster.waitFor('the consumer to read every acknowledged record', async () => (acked.every((record) => consumed.has(record.key)) ? true : undefined), 30_000).catch(() => false);
    await consumer.close();
    await consumerLoop;
    sampling = false;
    await samplerLoop;
    admin.close();

    // Stop cleanly, then read every replica's log from disk.
    for (const id of cluster.brokerIds) await cluster.stopBroker(id);
    const logs = new Map<number, DumpedRecord[]>();
    let replicasCompared = 0;
    try {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const reference: DumpedBatch[] = await cluster.dumpBatches(1, TOPIC, partition);
        for (const id of cluster.brokerIds.slice(1)) {
          // Quiescent, every replica in the ISR: the logs are whole-identical, not only up to the HW.
          expect(await cluster.dumpBatches(id, TOPIC, partition), `replica on broker ${id} of partition ${partition}`).toEqual(reference);
          replicasCompared += 1;
        }
        const records = await cluster.dumpRecords(1, TOPIC, partition);
        // No gaps: offsets are dense from 0 (dump-log --verify also checked batch continuity).
        records.forEach((record, index) => expect(record.offset).toBe(index));
        logs.set(partition, records);
      }
    } catch (error) {
      await saveLogsFor(error);
      throw error;
    }

    // Every acknowledged record exactly once, at its acknowledged offset; no key twice anywhere.
    const where = new Map<string, { partition: number; offset: number }>();
    const duplicates: string[] = [];
    for (const [partition, records] of logs) {
      for (const record of records) {
        if (where.has(record.key!)) duplicates.push(record.key!);
        where.set(record.key!, { partition, offset: record.offset });
        expect(record.value).toBe(`value of ${record.key}`);
      }
    }
    const lost = acked.filter((record) => {
      const found = where.get(record.key);
      return found === undefined || found.partition !== record.partition || found.offset !== record.offset;
    });
    // What the consumer read was there, at that offset (it never read a record later lost).
    const consumedElsewhere = [...consumed].filter(([key, at]) => {
      const found = where.get(key);
      return found === undefined || found.partition !== at.partition || found.offset !== at.offset;
    });
    // Each producer's records are in send order within a partition.
    const outOfOrder: string[] = [];
    for (const records of logs.values()) {
      const lastSequence = new Map<string, number>();
      for (const record of records) {
        const [producer, sequence] = record.key!.split('-') as [string, string];
        if (Number(sequence) < (lastSequence.get(producer) ?? -1)) outOfOrder.push(record.key!);
        lastSequence.set(producer, Number(sequence));
      }
    }

    const summary = {
      seed, chaosMs, totalMs: Date.now() - startedMs, faults, longestUnavailabilityMs: longestGapMs,
      acknowledged: acked.length, verified: acked.length - lost.length, inLog: where.size, sendFailures: Object.fromEntries(sendFailures),
      consumed: consumed.size, consumedDuplicates, consumerCaughtUp, consumerError: consumerError === null ? null : String(consumerError),
      commitSamples, committed: committedSeen, replicasCompared,
      brokerWarnings: cluster.logCounts(40),
    };
    if (process.env['SLUICE_CHAOS_LOGS'] !== undefined) await cluster.saveLogs(process.env['SLUICE_CHAOS_LOGS']);
    console.log(JSON.stringify({ chaos: summary }));
    expect(lost.slice(0, 10)).toEqual([]);
    expect(duplicates.slice(0, 10)).toEqual([]);
    expect(outOfOrder.slice(0, 10)).toEqual([]);
    expect(consumedElsewhere.slice(0, 10)).toEqual([]);
    expect(commitRegressions).toEqual([]);
    // The consumer followed every failover to the end (a subscription left on a former leader would stall it).
    expect(consumerError).toBeNull();
    expect(consumerCaughtUp).toBe(true);
    expect(consumedDuplicates).toBe(0);
    expect(acked.length).toBeGreaterThan(0);
    expect(faults.killLeader + faults.killController + faults.killOther + faults.pauseLeader + faults.pauseController + faults.pauseFollower + faults.killTwo).toBeGreaterThan(0);
  }, CHAOS_MS + 600_000);
});

/** Waits until every broker is registered and every partition has a leader and a full ISR. */
async function waitHealthy(): Promise<void> {
  await cluster.waitFor('a healthy cluster (3 brokers, every partition led with a full ISR)', async () => {
    for (const id of cluster.brokerIds) {
      const metadata = await cluster.metadata([TOPIC], id);
      if (metadata.brokers.length !== 3) return undefined;
      const partitions = metadata.topics[0]?.partitions ?? [];
      if (partitions.length !== PARTITIONS || !partitions.every((p) => p.leaderId >= 0 && p.isr.length === 3)) return undefined;
    }
    return true;
  }, HEALTHY_TIMEOUT_MS);
}

/** SIGSTOP a broker for `ms`, then SIGCONT. */
async function pauseFor(id: number, ms: number): Promise<void> {
  await cluster.pause(id);
  await sleep(ms);
  cluster.resume(id);
}

async function saveLogsFor(error: unknown): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-chaos-logs-'));
  await cluster.saveLogs(dir);
  const metadata = await cluster.metadata([TOPIC]).catch(() => null);
  console.log(`chaos test failed (${String(error)}); broker logs in ${dir}; metadata: ${JSON.stringify(metadata?.topics ?? null)}`);
}
