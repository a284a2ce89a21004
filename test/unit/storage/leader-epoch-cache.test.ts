import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../../../src/errors/index.js';
import { encodeRecordBatch, stampBatch, type ProducerInfo } from '../../../src/record/index.js';
import {
  LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache, UNDEFINED_EPOCH_END_OFFSET, formatLeaderEpochCheckpoint, parseLeaderEpochCheckpoint,
  type EpochEntry,
} from '../../../src/storage/leader-epoch-cache.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { ReplicaOffsetMismatchError } from '../../../src/storage/replicated-batches.js';
import { SMALL_LOG_CONFIG, makeBatch, makeTempDir, openLog } from '../../helpers/storage.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempLogDir(): Promise<string> {
  const { dir, cleanup } = await makeTempDir('sluice-epochs-');
  cleanups.push(cleanup);
  return dir;
}

function cacheOf(...pairs: Array<[number, number]>): LeaderEpochCache {
  const cache = new LeaderEpochCache([], null);
  for (const [epoch, startOffset] of pairs) cache.assign(epoch, startOffset);
  return cache;
}

function entries(...pairs: Array<[number, number]>): EpochEntry[] {
  return pairs.map(([epoch, startOffset]) => ({ epoch, startOffset }));
}

async function errorNameOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (isSluiceError(error)) return error.errorName;
    throw error;
  }
}

describe('leader-epoch cache: assign', () => {
  it('records each new epoch with its first offset, and ignores the latest epoch again', () => {
    const cache = cacheOf([2, 6], [2, 7], [2, 10], [3, 11]);
    expect(cache.entries).toEqual(entries([2, 6], [3, 11]));
    expect(cache.latestEpoch).toBe(3);
  });

  it('starts empty: no latest epoch, nothing to flush', () => {
    const cache = new LeaderEpochCache([], null);
    expect(cache.latestEpoch).toBeNull();
    expect(cache.isDirty).toBe(false);
  });

  it('drops entries that a new entry contradicts (higher epoch or later start), as after a truncation', () => {
    // Kafka: shouldDropEntriesOnEpochBoundaryWhenRemovingLatestEntries / non-monotonic entries.
    expect(cacheOf([2, 6], [3, 8], [4, 11]).assign(3, 9)).toBe(true);
    const cache = cacheOf([2, 6], [3, 8], [4, 11]);
    cache.assign(3, 9);
    expect(cache.entries).toEqual(entries([2, 6], [3, 9]));
    // An epoch with no data (same start offset as the next) is replaced.
    expect(cacheOf([1, 5], [2, 5]).entries).toEqual(entries([2, 5]));
    // The latest epoch moved earlier replaces itself.
    expect(cacheOf([1, 0], [2, 10], [2, 8]).entries).toEqual(entries([1, 0], [2, 8]));
  });

  it('refuses a negative epoch or offset: that is a bug in the caller', () => {
    expect(() => cacheOf([-1, 0])).toThrow(/assertion failed/);
    expect(() => cacheOf([0, -1])).toThrow(/assertion failed/);
  });
});

describe('leader-epoch cache: endOffsetFor', () => {
  const cache = cacheOf([2, 6], [3, 8], [5, 11]);

  it('answers the latest epoch with the log end offset', () => {
    expect(cache.endOffsetFor(5, 20)).toEqual({ epoch: 5, endOffset: 20 });
  });

  it('answers an earlier epoch with the start offset of the next one', () => {
    expect(cache.endOffsetFor(2, 20)).toEqual({ epoch: 2, endOffset: 8 });
    expect(cache.endOffsetFor(3, 20)).toEqual({ epoch: 3, endOffset: 11 });
  });

  it('answers an unknown epoch between known ones for the largest known epoch below it', () => {
    expect(cache.endOffsetFor(4, 20)).toEqual({ epoch: 3, endOffset: 11 });
  });

  it('answers an epoch below every known one with the requested epoch and the first start offset (Kafka)', () => {
    expect(cache.endOffsetFor(1, 20)).toEqual({ epoch: 1, endOffset: 6 });
    expect(cache.endOffsetFor(0, 20)).toEqual({ epoch: 0, endOffset: 6 });
  });

  it('answers UNDEFINED (-1, -1) for -1, for an epoch above every known one, and from an empty cache', () => {
    expect(cache.endOffsetFor(-1, 20)).toEqual(UNDEFINED_EPOCH_END_OFFSET);
    expect(cache.endOffsetFor(6, 20)).toEqual({ epoch: -1, endOffset: -1 });
    expect(new LeaderEpochCache([], null).endOffsetFor(0, 0)).toEqual({ epoch: -1, endOffset: -1 });
  });
});

describe('leader-epoch cache: truncation', () => {
  it('truncateFromEnd drops every entry starting at or after the new log end', () => {
    const cache = cacheOf([2, 6], [3, 8], [4, 11]);
    expect(cache.truncateFromEnd(11)).toBe(true);
    expect(cache.entries).toEqual(entries([2, 6], [3, 8]));
    expect(cache.truncateFromEnd(9)).toBe(false);
    expect(cache.entries).toEqual(entries([2, 6], [3, 8]));
    cache.truncateFromEnd(0);
    expect(cache.entries).toEqual([]);
  });

  it('truncateFromStart keeps the epoch covering the new start, moved up to it', () => {
    const cache = cacheOf([2, 6], [3, 8], [4, 11]);
    expect(cache.truncateFromStart(5)).toBe(false);
    expect(cache.truncateFromStart(9)).toBe(true);
    expect(cache.entries).toEqual(entries([3, 9], [4, 11]));
    expect(cache.truncateFromStart(11)).toBe(true);
    expect(cache.entries).toEqual(entries([4, 11]));
    expect(cache.truncateFromStart(11)).toBe(false);
    expect(cache.truncateFromStart(20)).toBe(true);
    expect(cache.entries).toEqual(entries([4, 20]));
  });
});

describe('leader-epoch checkpoint format', () => {
  it("is Kafka's text format: version 0, count, then 'epoch startOffset' lines", () => {
    expect(formatLeaderEpochCheckpoint(entries([0, 0], [3, 1200]))).toBe('0\n2\n0 0\n3 1200\n');
    expect(parseLeaderEpochCheckpoint('0\n2\n0 0\n3 1200\n')).toEqual({ kind: 'read', entries: entries([0, 0], [3, 1200]) });
    expect(parseLeaderEpochCheckpoint('0\n0\n')).toEqual({ kind: 'read', entries: [] });
  });

  it('is refused whole on any deviation: torn, wrong version, count, field, order', () => {
    for (const text of ['0\n1\n0 0', '1\n0\n', '0\n2\n0 0\n', '0\n1\n0\n', '0\n1\n0 x\n', '0\n1\n-1 0\n', '0\n2\n3 0\n2 5\n', '0\n2\n1 9\n2 5\n', '0\n1\n0 0 0\n']) {
      expect(parseLeaderEpochCheckpoint(text).kind, JSON.stringify(text)).toBe('invalid');
    }
  });

  it('flush writes only when dirty, one write at a time, and a failed write leaves it dirty', async () => {
    const written: EpochEntry[][] = [];
    let fail = false;
    const cache = new LeaderEpochCache([], async (list) => {
      if (fail) throw new Error('disk');
      written.push([...list]);
    });
    await cache.flush();
    expect(written).toEqual([]);
    cache.assign(1, 0);
    const first = cache.flush();
    cache.assign(2, 5);
    await Promise.all([first, cache.flush()]);
    expect(written.at(-1)).toEqual(entries([1, 0], [2, 5]));
    fail = true;
    cache.assign(3, 9);
    await expect(cache.flush()).rejects.toThrow('disk');
    expect(cache.isDirty).toBe(true);
  });
});

/** A producer batch (stamped with an epoch by the log). */
function batch(tag: string, count = 1): Uint8Array {
  return makeBatch(tag, count, 20);
}

/** A batch as a leader stored it: offsets and epoch stamped. */
function leaderBatch(baseOffset: number, epoch: number, count = 1, producer?: ProducerInfo): Uint8Array {
  const bytes = encodeRecordBatch({
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: new TextEncoder().encode(`r${baseOffset + i}`), headers: [], timestamp: 1_700_000_000_000 })),
    ...(producer === undefined ? {} : { producer }),
  });
  stampBatch(bytes, baseOffset, epoch);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function checkpointText(dir: string): Promise<string> {
  return readFile(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8');
}

async function appendWithEpochs(log: PartitionLog, plan: Array<[epoch: number, batches: number]>): Promise<void> {
  for (const [epoch, count] of plan) {
    for (let i = 0; i < count; i++) await log.append(batch(`e${epoch}-${i}`, 2), epoch);
  }
}

describe('partition log and its leader epochs', () => {
  it('assigns each newer stamped epoch at its first offset and persists it in the checkpoint', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    expect(log.latestEpoch).toBeNull();
    await appendWithEpochs(log, [[0, 2], [3, 1], [4, 2]]);
    expect(log.epochEntries).toEqual(entries([0, 0], [3, 4], [4, 6]));
    expect(await checkpointText(dir)).toBe('0\n3\n0 0\n3 4\n4 6\n');
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 4 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 0, endOffset: 4 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 4, endOffset: 10 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: -1, endOffset: -1 });
    await log.close();
  });

  it('refuses an append stamped with an epoch older than the latest (a stale leader), writing nothing', async () => {
    const log = await openLog(await tempLogDir());
    await appendWithEpochs(log, [[2, 1]]);
    expect(await errorNameOf(log.append(batch('old'), 1))).toBe('FENCED_LEADER_EPOCH');
    expect(log.logEndOffset).toBe(2);
    await log.close();
  });

  it('beginLeaderEpoch starts an epoch at the log end before anything is written in it', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    await appendWithEpochs(log, [[0, 1]]);
    await log.beginLeaderEpoch(1);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 2 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    expect(await checkpointText(dir)).toBe('0\n2\n0 0\n1 2\n');
    await log.beginLeaderEpoch(1);
    expect(await errorNameOf(log.beginLeaderEpoch(0))).toBe('FENCED_LEADER_EPOCH');
    await log.close();
  });

  it('truncateTo drops epochs that started at or after the new end, in memory and on disk', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    await appendWithEpochs(log, [[0, 2], [1, 2], [2, 2]]);
    // Batches hold 2 records: epoch 0 wrote [0, 4), epoch 1 [4, 8), epoch 2 [8, 12).
    expect(await log.truncateTo(9)).toBe(8);
    expect(log.epochEntries).toEqual(entries([0, 0], [1, 4]));
    expect(await log.truncateTo(8)).toBe(8);
    expect(await log.truncateTo(5)).toBe(4);
    expect(log.epochEntries).toEqual(entries([0, 0]));
    expect(await checkpointText(dir)).toBe('0\n1\n0 0\n');
    // The next leader's appends start a new epoch where the log now ends.
    await log.append(batch('new'), 3);
    expect(log.epochEntries).toEqual(entries([0, 0], [3, 4]));
    await log.close();
  });

  it('retention moves the earliest epoch up to the new log start', async () => {
    const dir = await tempLogDir();
    let nowMs = 1_000;
    const log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, segmentBytes: 2048, retentionBytes: 2048 }, nowMs: () => nowMs });
    for (let i = 0; i < 30; i++) await log.append(makeBatch(`r${i}`, 1, 200), i < 10 ? 0 : i < 20 ? 1 : 2);
    nowMs += 1;
    expect(await log.applyRetention()).toBeGreaterThan(0);
    const start = log.logStartOffset;
    expect(start).toBeGreaterThan(10);
    expect(log.epochEntries[0]).toEqual({ epoch: start < 20 ? 1 : 2, startOffset: start });
    expect(parseLeaderEpochCheckpoint(await checkpointText(dir))).toEqual({ kind: 'read', entries: log.epochEntries });
    await log.close();
  });

  it('reopens from the checkpoint; rebuilds it from the batches when it is missing or damaged', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    await appendWithEpochs(log, [[0, 1], [2, 1], [7, 1]]);
    await log.close();
    const expected = entries([0, 0], [2, 2], [7, 4]);
    const reopened = await openLog(dir);
    expect([reopened.leaderEpochLoad, reopened.epochEntries]).toEqual(['checkpoint', expected]);
    await reopened.close();
    for (const damage of [() => rm(join(dir, LEADER_EPOCH_CHECKPOINT_FILE)), () => writeFile(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n3\n0 0\n')]) {
      await damage();
      const rebuilt = await openLog(dir);
      expect([rebuilt.leaderEpochLoad, rebuilt.epochEntries]).toEqual(['rebuilt', expected]);
      await rebuilt.close();
      expect(await checkpointText(dir)).toBe('0\n3\n0 0\n2 2\n7 4\n');
    }
  });

  it('drops checkpoint entries past the recovered log end (the checkpoint is written before the batch)', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    await appendWithEpochs(log, [[0, 2]]);
    await log.close();
    await writeFile(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n3\n0 0\n1 4\n2 9\n');
    const reopened = await openLog(dir);
    expect(reopened.epochEntries).toEqual(entries([0, 0]));
    expect(await checkpointText(dir)).toBe('0\n1\n0 0\n');
    await reopened.close();
  });
});

describe('appendReplicated (follower)', () => {
  it("keeps the leader's offsets and epochs byte for byte and follows its epochs", async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    const batches = [leaderBatch(0, 0, 2), leaderBatch(2, 0, 1), leaderBatch(3, 4, 3)];
    const records = concat(...batches);
    const copy = records.slice();
    expect(await log.appendReplicated(records)).toEqual({ firstOffset: 0, lastOffset: 5, batchCount: 3 });
    expect(log.logEndOffset).toBe(6);
    expect(log.epochEntries).toEqual(entries([0, 0], [4, 3]));
    expect((await log.read(0, 1 << 20)).bytes).toEqual(copy);
    expect(await log.appendReplicated(leaderBatch(6, 4, 1))).toEqual({ firstOffset: 6, lastOffset: 6, batchCount: 1 });
    expect(await log.appendReplicated(new Uint8Array(0))).toEqual({ firstOffset: 7, lastOffset: 6, batchCount: 0 });
    await log.close();
    const reopened = await openLog(dir);
    expect([reopened.logEndOffset, reopened.epochEntries]).toEqual([7, entries([0, 0], [4, 3])]);
    await reopened.close();
  });

  it('refuses, writing none, a batch that does not start at the log end, a gap, a bad CRC, or an epoch going back', async () => {
    const log = await openLog(await tempLogDir());
    await log.appendReplicated(leaderBatch(0, 1, 2));
    const mismatch = await log.appendReplicated(leaderBatch(3, 1)).catch((error: unknown) => error);
    expect(mismatch).toBeInstanceOf(ReplicaOffsetMismatchError);
    expect(mismatch).toMatchObject({ expectedOffset: 2, batchBaseOffset: 3, errorName: 'INVALID_RECORD' });
    expect(await errorNameOf(log.appendReplicated(concat(leaderBatch(2, 1), leaderBatch(4, 1))))).toBe('INVALID_RECORD');
    const damaged = leaderBatch(2, 1, 2);
    damaged[damaged.length - 1]! ^= 0xff;
    expect(await errorNameOf(log.appendReplicated(concat(leaderBatch(2, 1), damaged)))).toBe('CORRUPT_MESSAGE');
    expect(await errorNameOf(log.appendReplicated(leaderBatch(2, 0)))).toBe('INVALID_RECORD');
    expect(await errorNameOf(log.appendReplicated(leaderBatch(2, 1).subarray(0, 40)))).toBe('CORRUPT_MESSAGE');
    expect(log.logEndOffset).toBe(2);
    expect(log.epochEntries).toEqual(entries([1, 0]));
    await log.close();
  });

  it('rebuilds producer state, so that this replica, once leader, answers a retry with the original offsets', async () => {
    const dir = await tempLogDir();
    const follower = await openLog(dir);
    const producer = { producerId: 77n, producerEpoch: 0, baseSequence: 0 };
    await follower.appendReplicated(concat(leaderBatch(0, 0, 1), leaderBatch(1, 0, 3, producer)));
    const retry = encodeRecordBatch({ records: [1, 2, 3].map((i) => ({ key: null, value: new TextEncoder().encode(`r${i}`), headers: [], timestamp: 1_700_000_000_000 })), producer });
    await follower.beginLeaderEpoch(1);
    expect(await follower.append(retry, 1)).toEqual({ baseOffset: 1, lastOffset: 3, duplicate: true });
    const next = encodeRecordBatch({ records: [{ key: null, value: null, headers: [], timestamp: 1 }], producer: { ...producer, baseSequence: 3 } });
    expect(await follower.append(next, 1)).toEqual({ baseOffset: 4, lastOffset: 4, duplicate: false });
    expect(follower.epochEntries).toEqual(entries([0, 0], [1, 4]));
    await follower.close();
  });
});
