import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/sluice-error.js';
import {
  DELETING_DIR_SUFFIX, HIGH_WATERMARK_CHECKPOINT_FILE, LogManager, RECOVERY_POINT_CHECKPOINT_FILE, type LogManagerOptions,
} from '../../../src/storage/log-manager.js';
import { META_PROPERTIES_FILE } from '../../../src/storage/meta-properties.js';
import { readOffsetCheckpoint, type PartitionOffset } from '../../../src/storage/offset-checkpoint-file.js';
import { appendConcurrently, planBatch } from '../../helpers/log-assertions.js';
import { mulberry32 } from '../../helpers/random.js';
import { capturingLogger, logManagerOptions, makeTempDir } from '../../helpers/storage.js';

let dir: string;
let dataDir: string;
let cleanup: () => Promise<void>;
const managers: LogManager[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  dataDir = join(dir, 'data');
});

afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
  await cleanup();
});

function managerOptions(overrides: Partial<LogManagerOptions> = {}): LogManagerOptions {
  return logManagerOptions(dataDir, overrides);
}

async function openManager(overrides: Partial<LogManagerOptions> = {}): Promise<LogManager> {
  const manager = await LogManager.open(managerOptions(overrides));
  managers.push(manager);
  return manager;
}

async function closeManager(manager: LogManager): Promise<void> {
  await manager.close();
  managers.splice(managers.indexOf(manager), 1);
}

async function checkpointEntries(fileName: string): Promise<PartitionOffset[]> {
  const read = await readOffsetCheckpoint(join(dataDir, fileName));
  expect(read.kind).toBe('read');
  return read.kind === 'read' ? [...read.entries] : [];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function appendErrorName(append: Promise<unknown>): Promise<string | undefined> {
  return append.then(() => undefined, (error: unknown) => {
    if (error instanceof SluiceError) return error.errorName;
    throw error;
  });
}

describe('LogManager.deleteLog', () => {
  it('closes the log, forgets it and removes its directory, leaving the other logs alone', async () => {
    const manager = await openManager();
    const doomed = await manager.getOrCreateLog('orders', 0);
    const kept = await manager.getOrCreateLog('orders', 1);
    await appendConcurrently(doomed, Array.from({ length: 30 }, (_, k) => planBatch(`d${k}`, 5)));
    await appendConcurrently(kept, [planBatch('k', 3)]);
    await manager.deleteLog('orders', 0);
    expect(manager.log('orders', 0)).toBeUndefined();
    expect([...manager.partitions.keys()]).toEqual(['orders-1']);
    expect(await exists(join(dataDir, 'orders-0'))).toBe(false);
    expect((await readdir(dataDir)).sort()).toEqual([META_PROPERTIES_FILE, 'orders-1', HIGH_WATERMARK_CHECKPOINT_FILE, RECOVERY_POINT_CHECKPOINT_FILE].sort());
    expect(await appendErrorName(doomed.append(planBatch('late', 1).bytes))).toBe('KAFKA_STORAGE_ERROR');
    expect((await kept.append(planBatch('k2', 1).bytes)).baseOffset).toBe(3);
  });

  it('lets appends queued before it complete', async () => {
    const manager = await openManager();
    const log = await manager.getOrCreateLog('orders', 0);
    const appends = Array.from({ length: 20 }, (_, k) => log.append(planBatch(`q${k}`, 1).bytes));
    await manager.deleteLog('orders', 0);
    expect((await Promise.all(appends)).map((result) => result.baseOffset)).toEqual(Array.from({ length: 20 }, (_, k) => k));
  });

  it('writes the checkpoints without the deleted log at once, and later checkpoints leave it out', async () => {
    const manager = await openManager();
    await appendConcurrently(await manager.getOrCreateLog('orders', 0), [planBatch('a', 7)]);
    await appendConcurrently(await manager.getOrCreateLog('orders', 1), [planBatch('b', 2)]);
    await manager.checkpoint();
    expect(await checkpointEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toHaveLength(2);
    await manager.deleteLog('orders', 0);
    const remaining = [{ topic: 'orders', partition: 1, offset: 2 }];
    expect(await checkpointEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toEqual(remaining);
    expect(await checkpointEntries(HIGH_WATERMARK_CHECKPOINT_FILE)).toEqual(remaining);
    await manager.checkpoint();
    await closeManager(manager);
    expect(await checkpointEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toEqual(remaining);
  });

  it('stays deleted across a restart', async () => {
    const manager = await openManager();
    await appendConcurrently(await manager.getOrCreateLog('orders', 0), [planBatch('a', 3)]);
    await manager.getOrCreateLog('other', 0);
    await manager.deleteLog('orders', 0);
    await closeManager(manager);
    const reopened = await openManager();
    expect([...reopened.partitions.keys()]).toEqual(['other-0']);
  });

  it('is a no-op for a partition that has no log', async () => {
    const manager = await openManager();
    await manager.deleteLog('absent', 0);
    await manager.deleteLog('absent', 0);
    expect(manager.partitions.size).toBe(0);
  });

  it('removes a partition directory that exists on disk even without an open log', async () => {
    const manager = await openManager();
    await mkdir(join(dataDir, 'stray-0'));
    await writeFile(join(dataDir, 'stray-0', 'junk'), 'x');
    await manager.deleteLog('stray', 0);
    expect(await exists(join(dataDir, 'stray-0'))).toBe(false);
  });

  it('handles the longest topic name (the renamed directory must still be a legal file name)', async () => {
    const manager = await openManager();
    const topic = 't'.repeat(249);
    await appendConcurrently(await manager.getOrCreateLog(topic, 9999), [planBatch('a', 1)]);
    await manager.deleteLog(topic, 9999);
    expect(await readdir(dataDir)).not.toContain(`${topic}-9999`);
    expect((await readdir(dataDir)).filter((name) => name.endsWith(DELETING_DIR_SUFFIX))).toEqual([]);
  });

  it('a log created again after a delete starts empty', async () => {
    const manager = await openManager();
    const first = await manager.getOrCreateLog('orders', 0);
    await appendConcurrently(first, Array.from({ length: 10 }, (_, k) => planBatch(`a${k}`, 4)));
    await manager.deleteLog('orders', 0);
    const second = await manager.getOrCreateLog('orders', 0);
    expect(second).not.toBe(first);
    expect(second.logEndOffset).toBe(0);
    expect((await second.append(planBatch('fresh', 1).bytes)).baseOffset).toBe(0);
    await closeManager(manager);
    const reopened = await openManager();
    expect(reopened.log('orders', 0)!.logEndOffset).toBe(1);
  });
});

describe('LogManager.deleteLog racing getOrCreateLog', () => {
  it('an open under way when the delete is called is deleted with it', async () => {
    const manager = await openManager();
    const opening = manager.getOrCreateLog('orders', 0);
    const deleting = manager.deleteLog('orders', 0);
    const log = await opening;
    await deleting;
    expect(manager.log('orders', 0)).toBeUndefined();
    expect(await exists(join(dataDir, 'orders-0'))).toBe(false);
    expect(await appendErrorName(log.append(planBatch('x', 1).bytes))).toBe('KAFKA_STORAGE_ERROR');
  });

  it('a getOrCreateLog called during the delete waits for it and gets a new, empty, working log', async () => {
    const manager = await openManager();
    const old = await manager.getOrCreateLog('orders', 0);
    await appendConcurrently(old, Array.from({ length: 10 }, (_, k) => planBatch(`o${k}`, 2)));
    const deleting = manager.deleteLog('orders', 0);
    const recreating = manager.getOrCreateLog('orders', 0);
    await deleting;
    const fresh = await recreating;
    expect(fresh).not.toBe(old);
    expect(manager.log('orders', 0)).toBe(fresh);
    expect(fresh.logEndOffset).toBe(0);
    expect((await fresh.append(planBatch('n', 1).bytes)).baseOffset).toBe(0);
    expect(await readdir(join(dataDir, 'orders-0'))).toContain('00000000000000000000.log');
  });

  it('concurrent callers during a delete share one new log', async () => {
    const manager = await openManager();
    await manager.getOrCreateLog('orders', 0);
    const deleting = manager.deleteLog('orders', 0);
    const callers = await Promise.all([manager.getOrCreateLog('orders', 0), manager.getOrCreateLog('orders', 0), manager.getOrCreateLog('orders', 0)]);
    await deleting;
    expect(new Set(callers).size).toBe(1);
    expect(manager.log('orders', 0)).toBe(callers[0]);
  });

  it('a getOrCreateLog waiting on a delete fails with KAFKA_STORAGE_ERROR if the manager closes meanwhile', async () => {
    const manager = await openManager();
    await manager.getOrCreateLog('orders', 0);
    const deleting = manager.deleteLog('orders', 0);
    const recreating = appendErrorName(manager.getOrCreateLog('orders', 0));
    await closeManager(manager);
    await deleting;
    expect(await recreating).toBe('KAFKA_STORAGE_ERROR');
    expect(await exists(join(dataDir, 'orders-0'))).toBe(false);
  });

  it.each([1, 2, 3, 4, 5])('random interleavings of creates, appends and deletes end consistent (seed %i)', async (seed) => {
    const random = mulberry32(seed);
    const manager = await openManager();
    const partitions = [0, 1, 2];
    const operations: Array<Promise<unknown>> = [];
    for (let step = 0; step < 60; step++) {
      const partition = partitions[Math.floor(random() * partitions.length)]!;
      const choice = random();
      if (choice < 0.4) {
        operations.push(manager.getOrCreateLog('t', partition).then((log) => log.append(planBatch(`s${step}`, 1).bytes)).catch((error: unknown) => {
          // An append can lose to a delete of its log: that is the only failure allowed.
          if (!(error instanceof SluiceError && error.errorName === 'KAFKA_STORAGE_ERROR')) throw error;
        }));
      } else if (choice < 0.7) {
        operations.push(manager.deleteLog('t', partition));
      } else if (choice < 0.85) {
        operations.push(manager.checkpoint());
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(operations);
    for (const partition of partitions) {
      const log = manager.log('t', partition);
      expect(await exists(join(dataDir, `t-${partition}`)), `t-${partition}`).toBe(log !== undefined);
      if (log !== undefined) await log.append(planBatch('final', 1).bytes);
    }
    expect((await readdir(dataDir)).filter((name) => name.endsWith(DELETING_DIR_SUFFIX))).toEqual([]);
    await manager.checkpoint();
    const expected = partitions.filter((partition) => manager.log('t', partition) !== undefined);
    expect((await checkpointEntries(RECOVERY_POINT_CHECKPOINT_FILE)).map((entry) => entry.partition).sort()).toEqual(expected);
    const logEndOffsets = new Map(expected.map((partition) => [partition, manager.log('t', partition)!.logEndOffset]));
    await closeManager(manager);
    const reopened = await openManager();
    expect([...reopened.partitions.keys()].sort()).toEqual(expected.map((partition) => `t-${partition}`));
    for (const [partition, logEndOffset] of logEndOffsets) expect(reopened.log('t', partition)!.logEndOffset).toBe(logEndOffset);
  });
});

describe('a deletion interrupted by a crash', () => {
  it('is finished at the next open, and the half-deleted directory is never opened as a log', async () => {
    const manager = await openManager();
    await appendConcurrently(await manager.getOrCreateLog('orders', 0), [planBatch('a', 3)]);
    await closeManager(manager);
    // What a crash in the middle of the recursive removal leaves: the renamed directory.
    await mkdir(join(dataDir, `orders-1${DELETING_DIR_SUFFIX}`));
    await writeFile(join(dataDir, `orders-1${DELETING_DIR_SUFFIX}`, '00000000000000000000.log'), 'partial');
    const { logger, lines } = capturingLogger();
    const reopened = await openManager({ logger });
    expect([...reopened.partitions.keys()]).toEqual(['orders-0']);
    expect((await readdir(dataDir)).filter((name) => name.endsWith(DELETING_DIR_SUFFIX))).toEqual([]);
    expect(lines.some((line) => line.msg === 'removing a partition directory whose deletion was interrupted')).toBe(true);
  });
});
