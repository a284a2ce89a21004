import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  HIGH_WATERMARK_CHECKPOINT_FILE, LogManager, RECOVERY_POINT_CHECKPOINT_FILE, type LogManagerOptions,
} from '../../../src/storage/log-manager.js';
import { META_PROPERTIES_FILE, ensureMetaProperties, parseMetaProperties } from '../../../src/storage/meta-properties.js';
import {
  parseOffsetCheckpoint, readOffsetCheckpoint, writeOffsetCheckpoint, type PartitionOffset,
} from '../../../src/storage/offset-checkpoint-file.js';
import { appendConcurrently, expectedRecords, planBatch, readAllRecords, seededRandom } from '../../helpers/log-assertions.js';
import { capturingLogger, logManagerOptions, makeTempDir } from '../../helpers/storage.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});

afterEach(async () => {
  await cleanup();
});

const ENTRIES: PartitionOffset[] = [
  { topic: 'orders', partition: 0, offset: 1234 },
  { topic: 'orders', partition: 1, offset: 99 },
  { topic: 'my-topic.with_dots', partition: 12, offset: 0 },
];

describe('offset checkpoint file', () => {
  it('round-trips its entries in Kafka\'s text format', async () => {
    const path = join(dir, 'checkpoint');
    await writeOffsetCheckpoint(path, ENTRIES);
    expect(await readFile(path, 'utf8')).toBe('0\n3\norders 0 1234\norders 1 99\nmy-topic.with_dots 12 0\n');
    expect(await readOffsetCheckpoint(path)).toEqual({ kind: 'read', entries: ENTRIES });
  });

  it('round-trips an empty checkpoint and the largest safe offset', async () => {
    const path = join(dir, 'checkpoint');
    await writeOffsetCheckpoint(path, []);
    expect(await readOffsetCheckpoint(path)).toEqual({ kind: 'read', entries: [] });
    const largest = [{ topic: 't', partition: 0, offset: Number.MAX_SAFE_INTEGER }];
    await writeOffsetCheckpoint(path, largest);
    expect(await readOffsetCheckpoint(path)).toEqual({ kind: 'read', entries: largest });
  });

  it('writes atomically: replacing a file leaves no .tmp behind, even over a stale one', async () => {
    const path = join(dir, 'checkpoint');
    await writeFile(`${path}.tmp`, 'half-written garbage from a crash');
    await writeOffsetCheckpoint(path, ENTRIES);
    await writeOffsetCheckpoint(path, ENTRIES.slice(0, 1));
    expect(await readdir(dir)).toEqual(['checkpoint']);
    expect(await readOffsetCheckpoint(path)).toEqual({ kind: 'read', entries: ENTRIES.slice(0, 1) });
  });

  it('reports a missing file as missing', async () => {
    expect(await readOffsetCheckpoint(join(dir, 'absent'))).toEqual({ kind: 'missing' });
  });

  it('reports an unreadable path as invalid instead of throwing', async () => {
    await mkdir(join(dir, 'a-directory'));
    const read = await readOffsetCheckpoint(join(dir, 'a-directory'));
    expect(read.kind).toBe('invalid');
  });

  it('rejects a file larger than its 16 MiB bound without parsing it', async () => {
    const path = join(dir, 'huge');
    await writeFile(path, Buffer.alloc(16 * 1024 * 1024 + 1, 0x0a));
    const read = await readOffsetCheckpoint(path);
    expect(read.kind).toBe('invalid');
    expect(read.kind === 'invalid' && read.reason).toContain('too large');
  });

  it.each([
    ['empty text', ''],
    ['only a newline', '\n'],
    ['binary garbage', '\u0000\u00ff\u0013garbage\n'],
    ['wrong version', '1\n1\norders 0 5\n'],
    ['version with spaces', ' 0\n1\norders 0 5\n'],
    ['CRLF line ends', '0\r\n1\r\norders 0 5\r\n'],
    ['count larger than entries', '0\n2\norders 0 5\n'],
    ['count smaller than entries', '0\n1\norders 0 5\norders 1 6\n'],
    ['negative count', '0\n-1\n'],
    ['missing count line', '0\n'],
    ['missing trailing newline', '0\n1\norders 0 5'],
    ['negative offset', '0\n1\norders 0 -5\n'],
    ['non-numeric offset', '0\n1\norders 0 five\n'],
    ['fractional offset', '0\n1\norders 0 1.5\n'],
    ['exponent offset', '0\n1\norders 0 1e3\n'],
    ['hex offset', '0\n1\norders 0 0x10\n'],
    ['offset beyond 2^53', '0\n1\norders 0 9007199254740993\n'],
    ['negative partition', '0\n1\norders -1 5\n'],
    ['missing field', '0\n1\norders 5\n'],
    ['extra field', '0\n1\norders 0 5 6\n'],
    ['empty topic', '0\n1\n 0 5\n'],
    ['double space', '0\n1\norders  0 5\n'],
    ['blank entry line', '0\n1\n\n'],
  ])('rejects %s as invalid', (_what, text) => {
    const read = parseOffsetCheckpoint(text);
    expect(read.kind).toBe('invalid');
    expect(read.kind === 'invalid' && read.reason.length).toBeGreaterThan(0);
  });

  it('rejects every torn prefix of a valid file', () => {
    const text = '0\n3\norders 0 1234\norders 1 99\nmy-topic.with_dots 12 0\n';
    expect(parseOffsetCheckpoint(text).kind).toBe('read');
    for (let length = 0; length < text.length; length++) {
      expect({ length, kind: parseOffsetCheckpoint(text.slice(0, length)).kind }).toEqual({ length, kind: 'invalid' });
    }
  });

  it('never throws on random text (seeded)', () => {
    const random = seededRandom(42);
    const alphabet = ['0', '1', '2', '9', '-', ' ', '\n', '\n', 'orders', 'x', '.', '\r', '\u0000', 'é', '99999999999999999'];
    const kinds = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const pieces = Array.from({ length: Math.floor(random() * 20) }, () => alphabet[Math.floor(random() * alphabet.length)]!);
      const text = random() < 0.5 ? `0\n${pieces.join('')}` : pieces.join('');
      const read = parseOffsetCheckpoint(text);
      kinds.add(read.kind);
      expect(['read', 'invalid']).toContain(read.kind);
    }
    expect(kinds.has('invalid')).toBe(true);
  });
});

describe('meta.properties', () => {
  it('is created on first open with the broker id, format version 1 and a cluster id', async () => {
    const meta = await ensureMetaProperties(dir, 3);
    expect(meta).toMatchObject({ version: 1, brokerId: 3 });
    expect(meta.clusterId).toMatch(/^[0-9a-f-]{36}$/);
    const text = await readFile(join(dir, META_PROPERTIES_FILE), 'utf8');
    expect(text).toBe(`version=1\nbroker.id=3\ncluster.id=${meta.clusterId}\n`);
    expect(await readdir(dir)).toEqual([META_PROPERTIES_FILE]);
  });

  it('is re-read, not rewritten, on later opens', async () => {
    const created = await ensureMetaProperties(dir, 3);
    const modifiedMs = (await stat(join(dir, META_PROPERTIES_FILE))).mtimeMs;
    expect(await ensureMetaProperties(dir, 3)).toEqual(created);
    expect((await stat(join(dir, META_PROPERTIES_FILE))).mtimeMs).toBe(modifiedMs);
  });

  it('refuses a directory that belongs to another broker, naming both ids and the file', async () => {
    await ensureMetaProperties(dir, 3);
    await expect(ensureMetaProperties(dir, 4)).rejects.toThrow(/meta\.properties: belongs to broker 3, not broker 4/);
  });

  it('refuses an unknown format version and a malformed file', async () => {
    const path = join(dir, META_PROPERTIES_FILE);
    await writeFile(path, 'version=2\nbroker.id=3\ncluster.id=abc\n');
    await expect(ensureMetaProperties(dir, 3)).rejects.toThrow(/format version 2, this build reads 1/);
    await writeFile(path, 'this is not a properties file\n');
    await expect(ensureMetaProperties(dir, 3)).rejects.toThrow(/malformed line/);
    await writeFile(path, 'version=1\nbroker.id=3\n');
    await expect(ensureMetaProperties(dir, 3)).rejects.toThrow(/missing or malformed/);
  });

  it('parses Kafka-style files with comments and blank lines', () => {
    expect(parseMetaProperties('#Thu Jan 01 00:00:00 UTC 2026\n\nversion=1\nbroker.id=7\ncluster.id=xyz\n'))
      .toEqual({ version: 1, brokerId: 7, clusterId: 'xyz' });
  });
});

describe('LogManager', () => {
  const managers: LogManager[] = [];

  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.close();
  });

  function managerOptions(overrides: Partial<LogManagerOptions> = {}): LogManagerOptions {
    return logManagerOptions(join(dir, 'data'), overrides);
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

  async function readEntries(fileName: string): Promise<PartitionOffset[]> {
    const read = await readOffsetCheckpoint(join(dir, 'data', fileName));
    expect(read.kind).toBe('read');
    return read.kind === 'read' ? [...read.entries].sort((a, b) => `${a.topic}/${a.partition}`.localeCompare(`${b.topic}/${b.partition}`)) : [];
  }

  it('creates the data directory and its meta.properties, and starts with no logs', async () => {
    const manager = await openManager();
    expect(manager.meta.brokerId).toBe(1);
    expect(manager.partitions.size).toBe(0);
    expect(await readdir(join(dir, 'data'))).toEqual([META_PROPERTIES_FILE]);
  });

  it('getOrCreateLog creates a <topic>-<partition> directory and returns the same log on later calls', async () => {
    const manager = await openManager();
    const log = await manager.getOrCreateLog('my-topic', 3);
    expect(await manager.getOrCreateLog('my-topic', 3)).toBe(log);
    expect(manager.log('my-topic', 3)).toBe(log);
    expect(manager.log('my-topic', 4)).toBeUndefined();
    expect((await stat(join(dir, 'data', 'my-topic-3'))).isDirectory()).toBe(true);
    expect(await readdir(join(dir, 'data', 'my-topic-3'))).toContain('00000000000000000000.log');
  });

  it('close writes both checkpoint files with each log\'s flushed offset and high watermark', async () => {
    const manager = await openManager();
    const orders0 = await manager.getOrCreateLog('orders', 0);
    const orders1 = await manager.getOrCreateLog('orders', 1);
    await manager.getOrCreateLog('empty', 0);
    await appendConcurrently(orders0, Array.from({ length: 40 }, (_, k) => planBatch(`o0-${k}`, 3)));
    await appendConcurrently(orders1, Array.from({ length: 7 }, (_, k) => planBatch(`o1-${k}`, 2)));
    await closeManager(manager);
    const expected = [
      { topic: 'empty', partition: 0, offset: 0 },
      { topic: 'orders', partition: 0, offset: 120 },
      { topic: 'orders', partition: 1, offset: 14 },
    ];
    expect(await readEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toEqual(expected);
    expect(await readEntries(HIGH_WATERMARK_CHECKPOINT_FILE)).toEqual(expected);
    expect((await readdir(join(dir, 'data'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('checkpoint() records the offsets of open logs without closing them', async () => {
    const manager = await openManager();
    const log = await manager.getOrCreateLog('orders', 0);
    await log.append(planBatch('a', 5).bytes);
    await manager.checkpoint();
    expect(await readEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toEqual([{ topic: 'orders', partition: 0, offset: 5 }]);
    await log.append(planBatch('b', 1).bytes);
    expect(log.logEndOffset).toBe(6);
  });

  it('a reopened data directory finds every log, trusts the checkpoint and scans at most one batch per log', async () => {
    const first = await openManager();
    const appended = await appendConcurrently(await first.getOrCreateLog('orders', 0), Array.from({ length: 200 }, (_, k) => planBatch(`r${k}`, 2)));
    await closeManager(first);
    const second = await openManager();
    expect([...second.partitions.keys()]).toEqual(['orders-0']);
    const log = second.log('orders', 0)!;
    expect(log.logEndOffset).toBe(400);
    expect(log.loadReport.bytesScanned).toBeLessThanOrEqual(appended.at(-1)!.sizeBytes);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });

  it('after a crash, recovery starts near the recovery point: checkpoint() wrote the active segment\'s indexes', async () => {
    const first = await openManager();
    const log = await first.getOrCreateLog('orders', 0);
    await first.getOrCreateLog('idle', 0);
    const before = await appendConcurrently(log, Array.from({ length: 200 }, (_, k) => planBatch(`c${k}`, 2)));
    await first.checkpoint();
    const after = await appendConcurrently(log, Array.from({ length: 20 }, (_, k) => planBatch(`d${k}`, 2)));
    // No close: the second manager finds what a SIGKILL would leave (the files as written).
    const { logger, lines } = capturingLogger();
    const second = await openManager({ logger });
    // The empty log's (empty) index files are no cause for alarm.
    expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([]);
    const reopened = second.log('orders', 0)!;
    expect(reopened.logEndOffset).toBe(440);
    expect(reopened.loadReport.indexesRebuilt).toBe(0);
    const afterBytes = after.reduce((sum, batch) => sum + batch.sizeBytes, 0);
    expect(reopened.loadReport.bytesScanned).toBeGreaterThanOrEqual(afterBytes);
    expect(reopened.loadReport.bytesScanned).toBeLessThan(reopened.sizeBytes / 2);
    expect(await readAllRecords(reopened)).toEqual(expectedRecords([...before, ...after]));
  });

  it('keeps a high watermark that does not follow the flush across a restart', async () => {
    const first = await openManager({ highWatermarkFollowsFlush: false });
    const log = await first.getOrCreateLog('orders', 0);
    await appendConcurrently(log, Array.from({ length: 10 }, (_, k) => planBatch(`h${k}`, 1)));
    log.updateHighWatermark(6);
    await closeManager(first);
    expect(await readEntries(HIGH_WATERMARK_CHECKPOINT_FILE)).toEqual([{ topic: 'orders', partition: 0, offset: 6 }]);
    expect(await readEntries(RECOVERY_POINT_CHECKPOINT_FILE)).toEqual([{ topic: 'orders', partition: 0, offset: 10 }]);
    const second = await openManager({ highWatermarkFollowsFlush: false });
    expect(second.log('orders', 0)!.highWatermark).toBe(6);
  });

  it('a garbage recovery-point checkpoint is logged as a warning and the logs are recovered by a full scan, data intact', async () => {
    const first = await openManager();
    const appended = await appendConcurrently(await first.getOrCreateLog('orders', 0), Array.from({ length: 200 }, (_, k) => planBatch(`g${k}`, 2)));
    await closeManager(first);
    await writeFile(join(dir, 'data', RECOVERY_POINT_CHECKPOINT_FILE), '0\n1\norders 0 NaN\n');
    const { logger, lines } = capturingLogger();
    const second = await openManager({ logger });
    const warning = lines.find((line) => line.msg === 'ignoring an invalid checkpoint file; logs will be recovered from their start');
    expect(warning).toBeDefined();
    expect(warning!.level).toBe(40);
    expect(warning!['file']).toBe(RECOVERY_POINT_CHECKPOINT_FILE);
    const log = second.log('orders', 0)!;
    expect(log.loadReport.bytesScanned).toBe(log.sizeBytes);
    expect(log.loadReport.bytesTruncated).toBe(0);
    expect(log.logEndOffset).toBe(400);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });

  it('a missing recovery-point checkpoint means a full scan, without a warning', async () => {
    const first = await openManager();
    await appendConcurrently(await first.getOrCreateLog('orders', 0), Array.from({ length: 50 }, (_, k) => planBatch(`m${k}`, 2)));
    await closeManager(first);
    await rm(join(dir, 'data', RECOVERY_POINT_CHECKPOINT_FILE));
    const { logger, lines } = capturingLogger();
    const second = await openManager({ logger });
    const log = second.log('orders', 0)!;
    expect(log.loadReport.bytesScanned).toBe(log.sizeBytes);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('refuses a data directory that belongs to another broker', async () => {
    await closeManager(await openManager({ brokerId: 1 }));
    await expect(LogManager.open(managerOptions({ brokerId: 2 }))).rejects.toThrow(/belongs to broker 1, not broker 2/);
  });

  it('writes checkpoints on its own every checkpointIntervalMs', async () => {
    const manager = await openManager({ checkpointIntervalMs: 20 });
    await (await manager.getOrCreateLog('orders', 0)).append(planBatch('t', 4).bytes);
    const path = join(dir, 'data', RECOVERY_POINT_CHECKPOINT_FILE);
    let read = await readOffsetCheckpoint(path);
    for (let attempt = 0; attempt < 500 && !(read.kind === 'read' && read.entries[0]?.offset === 4); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      read = await readOffsetCheckpoint(path);
    }
    expect(read).toEqual({ kind: 'read', entries: [{ topic: 'orders', partition: 0, offset: 4 }] });
  });
});
