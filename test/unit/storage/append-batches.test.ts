import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../../../src/errors/index.js';
import { appendConcurrently, expectedRecords, planBatch, readAllRecords, type RecordSeen } from '../../helpers/log-assertions.js';
import { SMALL_LOG_CONFIG, makeBatch, makeTempDir, openLog } from '../../helpers/storage.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function freshLog() {
  const { dir, cleanup } = await makeTempDir('sluice-append-batches-');
  cleanups.push(cleanup);
  return openLog(dir);
}

describe('appending several batches at once', () => {
  it('gives them contiguous offsets in order', async () => {
    const log = await freshLog();
    const results = await log.appendBatches([makeBatch('a', 3), makeBatch('b', 2), makeBatch('c', 1)]);
    expect(results).toEqual([{ baseOffset: 0, lastOffset: 2, duplicate: false }, { baseOffset: 3, lastOffset: 4, duplicate: false }, { baseOffset: 5, lastOffset: 5, duplicate: false }]);
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });

  it('writes none of them when any one is invalid', async () => {
    const log = await freshLog();
    await log.append(makeBatch('before', 2));
    const damaged = makeBatch('bad', 2);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    const outcome = await log.appendBatches([makeBatch('good', 2), damaged]).catch((error: unknown) => error);
    expect(isSluiceError(outcome, 'CORRUPT_MESSAGE')).toBe(true);
    expect(log.logEndOffset).toBe(2);
    expect((await log.append(makeBatch('after', 1))).baseOffset).toBe(2);
    await log.close();
  });

  it('tells high-watermark watchers each time new data becomes readable', async () => {
    const log = await freshLog();
    const seen: number[] = [];
    const stop = log.watchHighWatermark((highWatermark) => seen.push(highWatermark));
    await log.append(makeBatch('x', 4));
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    await log.append(makeBatch('y', 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([4]);
    await log.close();
  });
});

describe('writing a group inline or through the thread pool', () => {
  it('leaves the same segment files and reads either way', async () => {
    const planned = Array.from({ length: 60 }, (_, k) => planBatch(`w${k}`, 1 + (k % 7), 40 + 13 * k));
    const filesOf = async (inlineWriteBytesMax: number): Promise<{ files: Map<string, Buffer>; records: RecordSeen[] }> => {
      const { dir, cleanup } = await makeTempDir('sluice-inline-write-');
      cleanups.push(cleanup);
      const log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, inlineWriteBytesMax } });
      // Concurrent appends make groups of several batches, some rolling the 16 KiB segments.
      const appended = await appendConcurrently(log, planned);
      expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
      const records = await readAllRecords(log);
      await log.close();
      const names = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
      return { files: new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name))] as const))), records };
    };
    const pooled = await filesOf(0);
    const inline = await filesOf(1 << 20);
    expect(inline.files.size).toBeGreaterThan(1);
    expect([...inline.files.keys()]).toEqual([...pooled.files.keys()]);
    for (const [name, bytes] of inline.files) expect(bytes.equals(pooled.files.get(name)!), name).toBe(true);
    expect(inline.records).toEqual(pooled.records);
  });
});
