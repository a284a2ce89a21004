import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkBatchFraming } from '../../src/record/index.js';
import type { LoadReport } from '../../src/storage/log-loader.js';
import {
  HIGH_WATERMARK_CHECKPOINT_FILE, LogManager, RECOVERY_POINT_CHECKPOINT_FILE, type LogManagerOptions,
} from '../../src/storage/log-manager.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../../src/storage/offset-checkpoint-file.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import {
  FAULT_PARTITION, FAULT_PARTITION_DIR, FAULT_TOPIC, appendBytes, batchesOnDisk, faultManagerOptions, fileSize,
  flipByte, logPath, randomBytes, segmentPrefix, truncateBy, type BatchOnDisk,
} from '../helpers/fault.js';
import {
  appendConcurrently, expectSluiceError, expectedRecords, planBatch, readAllBytes, recordsOf, seededRandom, splitBatches,
  type AppendedBatch,
} from '../helpers/log-assertions.js';
import { SMALL_LOG_CONFIG, capturingLogger, makeTempDir } from '../helpers/storage.js';

/**
 * Damaged files, one kind of damage per case. Each case writes a log of several segments through
 * a LogManager, damages its files (sometimes after rewinding the recovery-point checkpoint, which
 * is what a crash leaves), reopens it and checks: opening never throws; the log is exactly the
 * longest valid prefix of what was written; the cut is logged with its size; every batch left
 * reads back with a valid CRC and the records that were written (never the damaged bytes); and
 * appends after the recovery work and survive another reopen.
 */

/** 150 batches of three ~120-byte records: about four 16 KiB segments. */
const BATCH_COUNT = 150;
const RECORDS_PER_BATCH = 3;
const APPENDS_AFTER_RECOVERY = 5;
const WARN = 40;
const ERROR = 50;
const SEED = 0xc0_22;

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A log as built, before damage: what was appended and where it lies on disk. */
interface Built {
  readonly appended: AppendedBatch[];
  /** Batches per segment, in order, as found in the `.log` files. */
  readonly segments: BatchOnDisk[][];
  readonly logEndOffset: number;
}

/** A reopened log with what its open logged. */
interface Reopened {
  readonly manager: LogManager;
  readonly log: PartitionLog;
  readonly lines: LogLine[];
  readonly report: LoadReport;
}

let root: string;
let cleanup: () => Promise<void>;
const managers: LogManager[] = [];

beforeEach(async () => {
  ({ dir: root, cleanup } = await makeTempDir('sluice-corrupt-'));
});

afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
  await cleanup();
});

function dataDir(): string {
  return join(root, 'data');
}

function partitionDir(): string {
  return join(dataDir(), FAULT_PARTITION_DIR);
}

function options(overrides: Partial<LogManagerOptions> = {}): LogManagerOptions {
  return faultManagerOptions(dataDir(), { config: SMALL_LOG_CONFIG, ...overrides });
}

async function closeManager(manager: LogManager): Promise<void> {
  const at = managers.indexOf(manager);
  if (at >= 0) managers.splice(at, 1);
  await manager.close();
}

/** Writes `BATCH_COUNT` batches through a LogManager and closes it cleanly. */
async function build(): Promise<Built> {
  const manager = await LogManager.open(options());
  managers.push(manager);
  const log = await manager.getOrCreateLog(FAULT_TOPIC, FAULT_PARTITION);
  const planned = Array.from({ length: BATCH_COUNT }, (_, k) => planBatch(`b${String(k).padStart(4, '0')}`, RECORDS_PER_BATCH));
  const appended = await appendConcurrently(log, planned);
  await closeManager(manager);
  const segments = await batchesOnDisk(partitionDir());
  expect(segments.length).toBeGreaterThanOrEqual(4);
  return { appended, segments, logEndOffset: appended.at(-1)!.lastOffset + 1 };
}

/**
 * Reopens the data directory with a capturing logger. `recoveryPoint` rewrites the checkpoint
 * first: a number as a crash would have left it, 'deleted' for none at all.
 */
async function reopen(recoveryPoint?: number | 'deleted', overrides: Partial<LogManagerOptions> = {}): Promise<Reopened> {
  const checkpointPath = join(dataDir(), RECOVERY_POINT_CHECKPOINT_FILE);
  if (recoveryPoint === 'deleted') await rm(checkpointPath, { force: true });
  else if (recoveryPoint !== undefined) await writeOffsetCheckpoint(checkpointPath, [{ topic: FAULT_TOPIC, partition: FAULT_PARTITION, offset: recoveryPoint }]);
  const { logger, lines } = capturingLogger();
  const manager = await LogManager.open(options({ logger, ...overrides }));
  managers.push(manager);
  const log = manager.log(FAULT_TOPIC, FAULT_PARTITION);
  expect(log).toBeDefined();
  return { manager, log: log!, lines: lines as LogLine[], report: log!.loadReport };
}

/** The `.log` file names in the partition directory, in order. */
async function segmentFiles(): Promise<string[]> {
  return (await readdir(partitionDir())).filter((name) => name.endsWith('.log')).sort();
}

function batchesBelow(built: Built, offset: number): AppendedBatch[] {
  return built.appended.filter((batch) => batch.lastOffset < offset);
}

function segmentSize(segment: readonly BatchOnDisk[]): number {
  const last = segment.at(-1)!;
  return last.position + last.sizeBytes;
}

/** Every batch from the log start to LEO: each one framed and CRC-valid on its own, records as written. */
async function expectExactly(log: PartitionLog, batches: readonly AppendedBatch[]): Promise<void> {
  const expectedEnd = batches.length === 0 ? 0 : batches.at(-1)!.lastOffset + 1;
  expect(log.logStartOffset).toBe(0);
  expect(log.logEndOffset).toBe(expectedEnd);
  const bytes = await readAllBytes(log, 4096);
  const read = splitBatches(bytes);
  expect(read.length).toBe(batches.length);
  read.forEach((batch, i) => {
    const check = checkBatchFraming(batch, 0, SMALL_LOG_CONFIG.batchBytesMax);
    expect(check.kind, `batch ${i}`).toBe('valid');
    if (check.kind === 'valid') expect(check.header.baseOffset).toBe(batches[i]!.baseOffset);
  });
  expect(recordsOf(bytes)).toEqual(expectedRecords(batches));
}

/** The warning that names a cut: its message says "truncated" and it carries bytesTruncated. */
function expectCutLogged(lines: readonly LogLine[], bytesTruncated: number, segment?: number): void {
  const cut = lines.find((line) => line.level === WARN && line.msg.includes('truncated') && typeof line['bytesTruncated'] === 'number');
  expect(cut, `a warning naming the cut among:\n${lines.map((line) => line.msg).join('\n')}`).toBeDefined();
  expect(cut!['bytesTruncated']).toBe(bytesTruncated);
  if (segment !== undefined) expect(cut!['segment']).toBe(segment);
}

function expectNothingCut(reopened: Reopened): void {
  expect(reopened.report).toMatchObject({ bytesTruncated: 0, segmentsDropped: 0 });
  expect(reopened.lines.filter((line) => line.level >= WARN && line.msg.includes('truncated'))).toEqual([]);
}

/**
 * Appends a few batches to the recovered log, closes it cleanly, reopens it and checks that the
 * kept prefix and the new batches are all there. Returns the reopened log.
 */
async function expectAppendsSurviveReopen(reopened: Reopened, kept: readonly AppendedBatch[]): Promise<Reopened> {
  const added = await appendConcurrently(reopened.log, Array.from({ length: APPENDS_AFTER_RECOVERY }, (_, k) => planBatch(`after${k}`, 2)));
  const keptEnd = kept.length === 0 ? 0 : kept.at(-1)!.lastOffset + 1;
  expect(added[0]!.baseOffset).toBe(keptEnd);
  await expectExactly(reopened.log, [...kept, ...added]);
  await closeManager(reopened.manager);
  const again = await reopen();
  expectNothingCut(again);
  await expectExactly(again.log, [...kept, ...added]);
  return again;
}

/** Byte positions inside a batch to damage, and what the damage breaks. */
const DAMAGE_SITES = [
  { field: 'a record value (CRC mismatch)', at: (batch: BatchOnDisk) => batch.position + 61 + Math.floor((batch.sizeBytes - 61) / 2) },
  { field: 'the CRC field', at: (batch: BatchOnDisk) => batch.position + 18 },
  { field: 'the magic byte', at: (batch: BatchOnDisk) => batch.position + 16 },
  { field: 'the batchLength field', at: (batch: BatchOnDisk) => batch.position + 10 },
  { field: 'the baseOffset (outside the CRC: an offset gap)', at: (batch: BatchOnDisk) => batch.position + 7 },
] as const;

describe('a damaged batch in the active segment', () => {
  it.each(DAMAGE_SITES)('after a crash, damage to $field cuts the log at that batch, keeping every batch before it', async ({ at }) => {
    const built = await build();
    const active = built.segments.at(-1)!;
    const damaged = active[Math.floor(active.length / 2)]!;
    await flipByte(logPath(partitionDir(), damaged.segment), at(damaged));
    // The crash left a recovery point a few batches before the damage.
    const reopened = await reopen(active[Math.floor(active.length / 2) - 3]!.baseOffset);
    const bytesTruncated = segmentSize(active) - damaged.position;
    expect(reopened.report).toMatchObject({ bytesTruncated, segmentsDropped: 0 });
    expectCutLogged(reopened.lines, bytesTruncated, damaged.segment);
    expect(await fileSize(logPath(partitionDir(), damaged.segment))).toBe(damaged.position);
    const kept = batchesBelow(built, damaged.baseOffset);
    await expectExactly(reopened.log, kept);
    await expectAppendsSurviveReopen(reopened, kept);
  });

  it('after a clean close (not re-scanned), is never served: reading it fails with CORRUPT_MESSAGE while reads before it work', async () => {
    const built = await build();
    const active = built.segments.at(-1)!;
    const damaged = active[Math.floor(active.length / 2)]!;
    await flipByte(logPath(partitionDir(), damaged.segment), DAMAGE_SITES[0].at(damaged));
    const reopened = await reopen();
    // The clean open trusts everything up to the last batch and reads only that one.
    expectNothingCut(reopened);
    expect(reopened.report.bytesScanned).toBeLessThan(segmentSize(active) - damaged.position);
    expect(reopened.log.logEndOffset).toBe(built.logEndOffset);
    const log = reopened.log;
    for (const offset of [damaged.baseOffset, damaged.lastOffset]) {
      await expectSluiceError(log.read(offset, 1024 * 1024), 'CORRUPT_MESSAGE');
    }
    const refused = reopened.lines.find((line) => line.level === ERROR && line.msg === 'refusing to serve a corrupt batch');
    expect(refused).toMatchObject({ segment: damaged.segment, position: damaged.position });
    // A read that starts before the damage stops just before it, without any of its bytes.
    const before = batchesBelow(built, damaged.baseOffset);
    const upTo = await log.read(active[0]!.baseOffset, 1024 * 1024);
    expect(upTo.nextOffset).toBe(damaged.baseOffset);
    expect(recordsOf(upTo.bytes)).toEqual(expectedRecords(before.filter((batch) => batch.baseOffset >= active[0]!.baseOffset)));
    expect(recordsOf(await readAllBytes(log, 4096, 0, damaged.baseOffset))).toEqual(expectedRecords(before));
    // Appends go on after the damaged batch, and read back, also after a clean reopen.
    const added = await appendConcurrently(log, Array.from({ length: APPENDS_AFTER_RECOVERY }, (_, k) => planBatch(`after${k}`, 2)));
    expect(added[0]!.baseOffset).toBe(built.logEndOffset);
    await closeManager(reopened.manager);
    const again = await reopen();
    expectNothingCut(again);
    expect(recordsOf(await readAllBytes(again.log, 4096, built.logEndOffset))).toEqual(expectedRecords(added));
    expect(recordsOf(await readAllBytes(again.log, 4096, 0, damaged.baseOffset))).toEqual(expectedRecords(before));
    await expectSluiceError(again.log.read(damaged.baseOffset, 1024 * 1024), 'CORRUPT_MESSAGE');
  });
});

describe('a torn last batch', () => {
  const cases = [
    { cleanClose: true, left: 'all but its last byte', keptBytes: (size: number) => size - 1 },
    { cleanClose: true, left: 'only its length prefix', keptBytes: (_size: number) => 12 },
    { cleanClose: true, left: '5 bytes, less than a length prefix', keptBytes: (_size: number) => 5 },
    { cleanClose: false, left: 'all but 30 bytes', keptBytes: (size: number) => size - 30 },
    { cleanClose: false, left: 'only its 61-byte header', keptBytes: (_size: number) => 61 },
    { cleanClose: false, left: '1 byte', keptBytes: (_size: number) => 1 },
  ].map((c) => ({ ...c, when: c.cleanClose ? 'after a clean close' : 'after a crash' }));
  it.each(cases)(
    '$when, with $left left: LEO goes back to the start of that batch',
    async ({ cleanClose, keptBytes }) => {
      const built = await build();
      const active = built.segments.at(-1)!;
      const last = active.at(-1)!;
      const lost = last.sizeBytes - keptBytes(last.sizeBytes);
      await truncateBy(logPath(partitionDir(), last.segment), lost);
      if (!cleanClose) {
        // As after a crash before the active segment was ever sealed: no index files, an old recovery point.
        await rm(join(partitionDir(), `${segmentPrefix(last.segment)}.index`));
        await rm(join(partitionDir(), `${segmentPrefix(last.segment)}.timeindex`));
      }
      const reopened = await reopen(cleanClose ? undefined : active[0]!.baseOffset);
      expect(reopened.report).toMatchObject({ bytesTruncated: last.sizeBytes - lost, segmentsDropped: 0 });
      expectCutLogged(reopened.lines, last.sizeBytes - lost, last.segment);
      const kept = batchesBelow(built, last.baseOffset);
      await expectExactly(reopened.log, kept);
      await expectAppendsSurviveReopen(reopened, kept);
    },
  );
});

describe('bytes after the last batch', () => {
  // Each case draws its own seeded bytes, so that it replays alone too.
  const random = (length: number): Buffer => randomBytes(seededRandom(SEED + length), length);
  const cases = [
    { what: '1 random byte', bytes: () => random(1) },
    { what: '11 random bytes (less than a length prefix)', bytes: () => random(11) },
    { what: '500 random bytes', bytes: () => random(500) },
    { what: '5,000 random bytes', bytes: () => random(5000) },
    { what: '4 KiB of zeros (a file grown but never written)', bytes: () => new Uint8Array(4096) },
  ];
  for (const cleanClose of [true, false]) {
    it.each(cases)(`${cleanClose ? 'after a clean close' : 'after a crash'}: $what are cut, and nothing before them`, async ({ bytes }) => {
      const built = await build();
      const active = built.segments.at(-1)!;
      const garbage = bytes();
      await appendBytes(logPath(partitionDir(), active[0]!.segment), garbage);
      const reopened = await reopen(cleanClose ? undefined : active[2]!.baseOffset);
      expect(reopened.report).toMatchObject({ bytesTruncated: garbage.length, segmentsDropped: 0 });
      expectCutLogged(reopened.lines, garbage.length, active[0]!.segment);
      await expectExactly(reopened.log, built.appended);
      await expectAppendsSurviveReopen(reopened, built.appended);
    });
  }

  it('a valid copy of an earlier batch appended at the end (good CRC, wrong offsets) is cut by the offset check', async () => {
    const built = await build();
    const active = built.segments.at(-1)!;
    const file = await readFile(logPath(partitionDir(), active[0]!.segment));
    const copy = file.subarray(active[1]!.position, active[1]!.position + active[1]!.sizeBytes);
    await appendBytes(logPath(partitionDir(), active[0]!.segment), copy);
    const reopened = await reopen();
    expect(reopened.report).toMatchObject({ bytesTruncated: copy.length, segmentsDropped: 0 });
    expectCutLogged(reopened.lines, copy.length);
    await expectExactly(reopened.log, built.appended);
    await expectAppendsSurviveReopen(reopened, built.appended);
  });
});

describe('damaged index files', () => {
  const indexPath = (segment: number, suffix = '.index'): string => join(partitionDir(), `${segmentPrefix(segment)}${suffix}`);
  const cases: Array<{ what: string; damage: (segments: readonly number[]) => Promise<number> }> = [
    {
      what: 'a truncated .index in an old and in the active segment',
      damage: async (segments) => {
        for (const segment of [segments[0]!, segments.at(-1)!]) await truncateBy(indexPath(segment), 3);
        return 2;
      },
    },
    {
      what: 'deleted .index and .timeindex files of every segment',
      damage: async (segments) => {
        for (const segment of segments) {
          await rm(indexPath(segment));
          await rm(indexPath(segment, '.timeindex'));
        }
        return segments.length;
      },
    },
    {
      what: 'an .index full of random bytes in an old segment',
      damage: async (segments) => {
        const path = indexPath(segments[1]!);
        await writeFile(path, randomBytes(seededRandom(SEED + 1), Math.max(64, await fileSize(path))));
        return 1;
      },
    },
    {
      what: 'a .timeindex full of random bytes in the active segment',
      damage: async (segments) => {
        const path = indexPath(segments.at(-1)!, '.timeindex');
        await writeFile(path, randomBytes(seededRandom(SEED + 2), 12 * 40));
        return 1;
      },
    },
  ];
  it.each(cases)('$what: every batch is still read, the indexes are rebuilt and reported', async ({ damage }) => {
    const built = await build();
    const rebuilt = await damage(built.segments.map((segment) => segment[0]!.segment));
    const reopened = await reopen();
    expectNothingCut(reopened);
    expect(reopened.report.indexesRebuilt).toBe(rebuilt);
    await expectExactly(reopened.log, built.appended);
    const again = await expectAppendsSurviveReopen(reopened, built.appended);
    // The rebuilt files were written back: a clean reopen trusts them again.
    expect(again.report.indexesRebuilt).toBe(0);
  });
});

describe('damaged checkpoint files', () => {
  const cases = [
    { what: 'random bytes in recovery-point-offset-checkpoint', file: RECOVERY_POINT_CHECKPOINT_FILE, half: false },
    { what: 'half of recovery-point-offset-checkpoint (a torn write)', file: RECOVERY_POINT_CHECKPOINT_FILE, half: true },
    { what: 'random bytes in replication-offset-checkpoint', file: HIGH_WATERMARK_CHECKPOINT_FILE, half: false },
    { what: 'half of replication-offset-checkpoint (a torn write)', file: HIGH_WATERMARK_CHECKPOINT_FILE, half: true },
  ];
  it.each(cases)('$what: a warning names the file, the log is recovered whole', async ({ file, half }) => {
    const built = await build();
    const path = join(dataDir(), file);
    if (half) await truncate(path, Math.floor((await fileSize(path)) / 2));
    else await writeFile(path, randomBytes(seededRandom(SEED + 3), 200));
    const reopened = await reopen(undefined, { highWatermarkFollowsFlush: false });
    const warning = reopened.lines.find((line) => line.level === WARN && line.msg.startsWith('ignoring an invalid checkpoint file'));
    expect(warning).toMatchObject({ file });
    expectNothingCut(reopened);
    if (file === RECOVERY_POINT_CHECKPOINT_FILE) {
      // Nothing to trust: every byte is scanned.
      expect(reopened.report.bytesScanned).toBe(reopened.log.sizeBytes);
      expect(reopened.log.highWatermark).toBe(built.logEndOffset);
    } else {
      // The high watermark is not believed either: it starts at the log start, never past the log.
      expect(reopened.report.bytesScanned).toBeLessThan(reopened.log.sizeBytes);
      expect(reopened.log.highWatermark).toBe(0);
    }
    await expectExactly(reopened.log, built.appended);
    // Close writes valid checkpoints again.
    await closeManager(reopened.manager);
    expect(await readOffsetCheckpoint(path)).toMatchObject({ kind: 'read' });
    const again = await reopen(undefined, { highWatermarkFollowsFlush: false });
    expect(again.lines.filter((line) => line.level >= WARN)).toEqual([]);
    await expectExactly(again.log, built.appended);
    await expectAppendsSurviveReopen(again, built.appended);
  });
});

describe('a damaged older segment', () => {
  it.each(DAMAGE_SITES)('with no recovery point, damage to $field cuts the log there and drops every later segment', async ({ at }) => {
    const built = await build();
    const segment = built.segments[1]!;
    const damaged = segment[Math.floor(segment.length / 2)]!;
    await flipByte(logPath(partitionDir(), damaged.segment), at(damaged));
    const reopened = await reopen('deleted');
    const later = built.segments.slice(2);
    const cutBytes = segmentSize(segment) - damaged.position;
    expect(reopened.report).toMatchObject({
      segmentsDropped: later.length,
      bytesTruncated: cutBytes + later.reduce((sum, dropped) => sum + segmentSize(dropped), 0),
    });
    expectCutLogged(reopened.lines, cutBytes, damaged.segment);
    const droppedLines = reopened.lines.filter((line) => line.level === WARN && line.msg === 'recovery dropped a segment that follows a cut');
    expect(droppedLines.map((line) => line['segment'])).toEqual(later.map((dropped) => dropped[0]!.segment));
    expect(await segmentFiles()).toEqual([0, damaged.segment].map((base) => `${segmentPrefix(base)}.log`));
    const kept = batchesBelow(built, damaged.baseOffset);
    expect(reopened.log.logEndOffset).toBe(damaged.baseOffset);
    await expectExactly(reopened.log, kept);
    await expectAppendsSurviveReopen(reopened, kept);
  });
});

describe('stray and empty files', () => {
  it('a middle segment whose .log is zero bytes long: the log ends where that segment begins', async () => {
    const built = await build();
    const emptied = built.segments[2]!;
    await truncate(logPath(partitionDir(), emptied[0]!.segment), 0);
    const reopened = await reopen();
    const later = built.segments.slice(3);
    expect(await segmentFiles()).toEqual(built.segments.slice(0, 2).map((segment) => `${segmentPrefix(segment[0]!.segment)}.log`));
    expect(reopened.report).toMatchObject({ segmentsDropped: later.length, bytesTruncated: later.reduce((sum, dropped) => sum + segmentSize(dropped), 0) });
    const gap = reopened.lines.find((line) => line.level === WARN && line.msg === 'segment does not start where the previous one ends');
    expect(gap).toMatchObject({ segment: later[0]![0]!.segment, expected: emptied[0]!.segment });
    const kept = batchesBelow(built, emptied[0]!.baseOffset);
    await expectExactly(reopened.log, kept);
    await expectAppendsSurviveReopen(reopened, kept);
  });

  it('a stray zero-length .log named inside an older segment\'s offsets loses nothing', async () => {
    const built = await build();
    const host = built.segments[1]!;
    const strayBase = host[Math.floor(host.length / 2)]!.baseOffset;
    await writeFile(logPath(partitionDir(), strayBase), '');
    const reopened = await reopen();
    // Left in place, it would claim that the older segment ends at its base offset, so that every
    // later segment would be dropped and, worse, the offsets after it handed out a second time.
    expect(reopened.lines.find((line) => line.level === WARN && line.msg === 'removing an empty segment that is not the last')).toMatchObject({ segment: strayBase });
    expectNothingCut(reopened);
    expect(await segmentFiles()).toEqual(built.segments.map((segment) => `${segmentPrefix(segment[0]!.segment)}.log`));
    await expectExactly(reopened.log, built.appended);
    await expectAppendsSurviveReopen(reopened, built.appended);
  });

  it('leftover .tmp files of interrupted atomic writes are removed and change nothing', async () => {
    const built = await build();
    const random = seededRandom(SEED + 4);
    const strays = [
      `${segmentPrefix(0)}.index.tmp`,
      `${segmentPrefix(built.segments.at(-1)![0]!.segment)}.timeindex.tmp`,
      `${segmentPrefix(99_999)}.log.tmp`,
    ];
    for (const name of strays) await writeFile(join(partitionDir(), name), randomBytes(random, 100));
    await writeFile(join(dataDir(), `${RECOVERY_POINT_CHECKPOINT_FILE}.tmp`), '0\n1\nfault 0 3\n');
    const reopened = await reopen();
    expectNothingCut(reopened);
    const removed = reopened.lines.filter((line) => line.msg === 'removing leftover file').map((line) => line['file']);
    expect(removed.sort()).toEqual([...strays].sort());
    expect((await readdir(partitionDir())).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    await expectExactly(reopened.log, built.appended);
    await expectAppendsSurviveReopen(reopened, built.appended);
    expect((await readdir(dataDir())).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('opening never throws on damage', () => {
  // partitionLeaderEpoch (bytes 12-15) lies outside the CRC by design and no offset check covers
  // it, so a flip there is invisible to recovery; every other byte of a batch is covered.
  const EPOCH_BYTES = { from: 12, to: 16 };

  it('seeded random flips anywhere else, recovered by full scans, always leave a valid prefix of what was written', async () => {
    const built = await build();
    const random = seededRandom(SEED + 5);
    let logEndOffset = built.logEndOffset;
    for (let trial = 0; trial < 6 && logEndOffset > 0; trial++) {
      const candidates = built.segments.flat().filter((batch) => batch.lastOffset < logEndOffset);
      const victim = candidates[Math.floor(random() * candidates.length)]!;
      let inBatch = Math.floor(random() * victim.sizeBytes);
      if (inBatch >= EPOCH_BYTES.from && inBatch < EPOCH_BYTES.to) inBatch = EPOCH_BYTES.to;
      await flipByte(logPath(partitionDir(), victim.segment), victim.position + inBatch);
      const reopened = await reopen('deleted');
      expect(reopened.log.logEndOffset, `trial ${trial}: byte ${inBatch} of the batch at ${victim.baseOffset}`).toBe(victim.baseOffset);
      expectCutLogged(reopened.lines, segmentSize(built.segments.find((segment) => segment[0]!.segment === victim.segment)!.filter((batch) => batch.lastOffset < logEndOffset)) - victim.position, victim.segment);
      await expectExactly(reopened.log, batchesBelow(built, victim.baseOffset));
      logEndOffset = victim.baseOffset;
      await closeManager(reopened.manager);
    }
  });
});
