import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionLeadership } from '../../../src/broker/replication/partition-leadership.js';
import { DEFAULT_TOPIC_CONFIG, type PartitionState, type TopicConfig } from '../../../src/cluster/metadata-store.js';
import { StandaloneMetadataStore } from '../../../src/cluster/standalone-metadata-store.js';
import { SluiceError } from '../../../src/errors/index.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { makeBatch, makeTempDir, openLog } from '../../helpers/storage.js';

// A real log and a real (standalone) metadata store: the leadership's CAS writes are real writes.
let dir: string;
let cleanup: () => Promise<void>;
let store: StandaloneMetadataStore;
let log: PartitionLog;
let clockMs: number;
const deposed: number[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('sluice-leadership-'));
  clockMs = 1_000;
  deposed.length = 0;
  store = await StandaloneMetadataStore.open({ dataDir: join(dir, 'meta'), broker: { brokerId: 1, host: '127.0.0.1', port: 1 }, partitionCountMax: 10, nowMs: () => clockMs });
  await store.createTopic({ name: 't', partitionCount: 1, replicationFactor: 1 });
  await mkdir(join(dir, 't-0'));
  log = await openLog(join(dir, 't-0'), { highWatermarkFollowsFlush: false });
});

afterEach(async () => {
  await log?.close();
  await store?.close();
  await cleanup();
});

async function leadWith(state: PartitionState, config: TopicConfig = DEFAULT_TOPIC_CONFIG): Promise<PartitionLeadership> {
  const current = (await store.getPartitionState('t', 0))!;
  const version = await store.compareAndSetPartitionState('t', 0, current.version, state);
  return new PartitionLeadership('t', 0, log, { value: state, version: version! }, config, {
    brokerId: 1, store, replicaLagTimeMaxMs: 5_000, nowMs: () => clockMs, logger: pino({ level: 'silent' }),
    deposed: () => { deposed.push(clockMs); },
  });
}

/** Waits (at most 5 s) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('PartitionLeadership', () => {
  it('with the leader alone in the ISR, acks=all resolves once the append is fsynced and the high watermark covers it', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1], isr: [1] });
    const [result] = await leadership.appendBatches([makeBatch('a', 3)], -1);
    expect(result!.lastOffset).toBe(2);
    expect(log.highWatermark).toBe(3);
  });

  it('acks=all waits for every ISR follower to fetch past the batch; acks=1 does not', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
    await leadership.appendBatches([makeBatch('one', 2)], 1);
    expect(log.highWatermark).toBe(0);
    let acked = false;
    const all = leadership.appendBatches([makeBatch('all', 2)], -1).then(() => { acked = true; });
    await until(() => log.flushedOffset === 4);
    leadership.followerFetched(2, 4);
    await settle();
    expect(acked).toBe(false);
    expect(log.highWatermark).toBe(0);
    leadership.followerFetched(3, 3);
    await settle();
    expect(log.highWatermark).toBe(3);
    expect(acked).toBe(false);
    leadership.followerFetched(3, 4);
    await all;
    expect(log.highWatermark).toBe(4);
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS before writing when the ISR is below minInsyncReplicas', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1] }, { minInsyncReplicas: 2, uncleanLeaderElection: false });
    await expect(leadership.appendBatches([makeBatch('x')], -1)).rejects.toMatchObject({ errorName: 'NOT_ENOUGH_REPLICAS' });
    expect(log.logEndOffset).toBe(0);
    await leadership.appendBatches([makeBatch('y')], 1);
    expect(log.logEndOffset).toBe(1);
  });

  it('shrinks a follower that lags past replicaLagTimeMaxMs out of the ISR through the store, which frees the high watermark', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
    const acked = leadership.appendBatches([makeBatch('a', 2)], -1);
    await settle();
    leadership.followerFetched(2, 2);
    clockMs += 6_000;
    leadership.followerFetched(2, 2);
    leadership.checkLaggingFollowers();
    await acked;
    expect(leadership.isr).toEqual([1, 2]);
    expect((await store.getPartitionState('t', 0))!.value.isr).toEqual([1, 2]);
    expect(log.highWatermark).toBe(2);
  });

  it('does not acknowledge acks=all while the ISR, shrunk during the wait, is below minInsyncReplicas; does once it is back', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3] }, { minInsyncReplicas: 2, uncleanLeaderElection: false });
    let acked = false;
    const all = leadership.appendBatches([makeBatch('a', 2)], -1).then(() => { acked = true; });
    await until(() => log.flushedOffset === 2);
    // Both followers hang: the ISR shrinks to the leader alone, whose log end then is the high watermark.
    clockMs += 6_000;
    leadership.checkLaggingFollowers();
    await until(() => leadership.isr.length === 1);
    await settle();
    // One copy is not what minInsyncReplicas 2 promises: the append is not acknowledged (it times out, or...)
    expect(acked).toBe(false);
    // ...is acknowledged once a follower holding it is back in the ISR.
    leadership.followerFetched(2, 2);
    await until(() => leadership.isr.length === 2);
    await all;
    expect(acked).toBe(true);
  });

  it('takes a follower back into the ISR once it reaches the high watermark', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2], isr: [1] });
    await leadership.appendBatches([makeBatch('a', 5)], -1);
    leadership.followerFetched(2, 3);
    await settle();
    expect(leadership.isr).toEqual([1]);
    leadership.followerFetched(2, 5);
    await until(() => leadership.isr.length === 2);
    expect(leadership.isr).toEqual([1, 2]);
    expect((await store.getPartitionState('t', 0))!.value.isr).toEqual([1, 2]);
  });

  it('is deposed when its ISR write loses to a newer leader epoch, and its waiting appends fail when stopped', async () => {
    const leadership = await leadWith({ leaderId: 1, leaderEpoch: 1, replicas: [1, 2], isr: [1, 2] });
    const waiting = leadership.appendBatches([makeBatch('a')], -1);
    // The controller elects broker 2 behind the leader's back.
    const current = (await store.getPartitionState('t', 0))!;
    await store.compareAndSetPartitionState('t', 0, current.version, { leaderId: 2, leaderEpoch: 2, replicas: [1, 2], isr: [2] });
    clockMs += 6_000;
    leadership.checkLaggingFollowers();
    for (let i = 0; i < 50 && deposed.length === 0; i++) await settle();
    expect(deposed.length).toBe(1);
    expect((await store.getPartitionState('t', 0))!.value).toMatchObject({ leaderId: 2, leaderEpoch: 2, isr: [2] });
    leadership.stop(new SluiceError('NOT_LEADER_OR_FOLLOWER', 'deposed'));
    await expect(waiting).rejects.toMatchObject({ errorName: 'NOT_LEADER_OR_FOLLOWER' });
    await expect(leadership.appendBatches([makeBatch('b')], 1)).rejects.toMatchObject({ errorName: 'NOT_LEADER_OR_FOLLOWER' });
  });
});
