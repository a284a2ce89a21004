import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  checkBatchFraming, decodeRecords, lastOffsetOf, type Record, type RecordBatchHeader,
} from '../../src/record/index.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import type { LogManagerOptions } from '../../src/storage/log-manager.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';

/**
 * Shared by the fault tests and their child-process fixtures (test/fault/fixtures/): the log
 * layout they use, the deterministic batch contents the appender writes, file-damaging tools,
 * and a verifier that reads a whole log back and says everything wrong with it.
 */

export const FAULT_TOPIC = 'fault';
export const FAULT_PARTITION = 0;
export const FAULT_PARTITION_DIR = `${FAULT_TOPIC}-${FAULT_PARTITION}`;

/** 64 KiB segments and 1 KiB index intervals: a crash test of a few MB crosses many rolls. */
export const FAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 64 * 1024,
  segmentMs: 7 * 24 * 3_600_000,
  indexIntervalBytes: 1024,
  indexBytesMax: 64 * 1024,
  batchBytesMax: 1024 * 1024,
  retentionBytes: null,
  retentionMs: null,
  groupCommitBytesMax: 1024 * 1024,
  inlineWriteBytesMax: 256 * 1024,
  tailCacheBytesMax: 64 * 1024,
};

/** LogManager options for opening a fault-test data directory from a test. */
export function faultManagerOptions(dataDir: string, overrides: Partial<LogManagerOptions> = {}): LogManagerOptions {
  return {
    dataDir, brokerId: 0, config: FAULT_LOG_CONFIG,
    checkpointIntervalMs: 3_600_000, retentionCheckIntervalMs: 3_600_000,
    highWatermarkFollowsFlush: true, nowMs: () => Date.now(),
    logger: pino({ level: 'silent' }),
    onFatal: (error) => { throw error; },
    ...overrides,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FAULT_T0 = 1_700_000_000_000;

// A small integer hash, so sizes vary from batch to batch but replay exactly.
function mix(round: number, seq: number): number {
  let h = Math.imul(round + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * The records of batch `seq` in crash round `round`: 1-4 records, values of 30-330 bytes, keys
 * `r<round>s<seq>i<i>`, one header. A reader can tell any stored batch's round and seq from its
 * first key and regenerate exactly what it must hold.
 */
export function faultBatchRecords(round: number, seq: number): Record[] {
  const h = mix(round, seq);
  const count = 1 + (h % 4);
  const valueBytes = 30 + ((h >>> 8) % 300);
  const fill = String.fromCharCode(97 + ((round + seq) % 26));
  return Array.from({ length: count }, (_, i) => ({
    key: encoder.encode(`r${round}s${seq}i${i}`),
    value: encoder.encode(`v:${round}:${seq}:${i}:`.padEnd(valueBytes, fill)),
    headers: [{ key: 'seq', value: encoder.encode(String(seq)) }],
    timestamp: FAULT_T0 + round * 1_000_000 + seq + i,
  }));
}

/** One acknowledged append as the appender printed it. */
export interface Ack {
  readonly round: number;
  readonly seq: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** Parses `ACK <base> <last> <seq>` lines; any other line is ignored. */
export function parseAcks(round: number, stdout: string): Ack[] {
  const acks: Ack[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^ACK (\d+) (\d+) (\d+)$/.exec(line);
    if (match !== null) acks.push({ round, seq: Number(match[3]), baseOffset: Number(match[1]), lastOffset: Number(match[2]) });
  }
  return acks;
}

/** What a full read of a fault log found. */
export interface LogVerdict {
  readonly batches: number;
  readonly records: number;
  readonly ackedFound: number;
  /** Batches present that no ack names (written but killed before the ack): allowed. */
  readonly unacked: number;
  /** Everything wrong, first PROBLEMS_MAX of it; empty means the log is sound. */
  readonly problems: readonly string[];
  /** Base offset → `round/seq` of every batch read. */
  readonly stored: Map<number, string>;
}

const PROBLEMS_MAX = 20;
/** Bounds the read loop: more reads than this means the log stopped making progress. */
const VERIFY_READS_MAX = 1_000_000;

/**
 * Reads `log` from its start to its end following nextOffset and checks: every batch passes
 * framing and CRC on its own, offsets are dense from 0 with no gap or overlap, every batch holds
 * exactly what `faultBatchRecords` says its (round, seq) holds, no (round, seq) appears twice,
 * and every ack names a batch present at exactly its acknowledged offsets.
 */
export async function verifyFaultLog(log: PartitionLog, acks: readonly Ack[], readBytesMax = 256 * 1024): Promise<LogVerdict> {
  const problems: string[] = [];
  const problem = (text: string): void => { if (problems.length < PROBLEMS_MAX) problems.push(text); };
  const byBase = new Map<number, { round: number; seq: number; lastOffset: number }>();
  const seen = new Set<string>();
  let batches = 0;
  let records = 0;
  if (log.logStartOffset !== 0) problem(`logStartOffset ${log.logStartOffset}, expected 0 (no retention)`);
  let offset = log.logStartOffset;
  for (let reads = 0; offset < log.logEndOffset; reads++) {
    if (reads >= VERIFY_READS_MAX) { problem(`no end after ${reads} reads`); break; }
    let result;
    try {
      result = await log.read(offset, readBytesMax);
    } catch (error) {
      problem(`read at ${offset} failed: ${(error as Error).message}`);
      break;
    }
    if (result.batchCount === 0 || result.nextOffset <= offset) { problem(`read at ${offset} made no progress`); break; }
    let at = 0;
    while (at < result.bytes.length) {
      const check = checkBatchFraming(result.bytes, at, FAULT_LOG_CONFIG.batchBytesMax);
      if (check.kind !== 'valid') { problem(`batch at ${offset} position ${at} of a read: ${check.kind}`); return verdict(); }
      const batch = result.bytes.subarray(at, at + check.sizeBytes);
      at += check.sizeBytes;
      batches += 1;
      records += check.header.recordCount;
      if (check.header.baseOffset !== offset) problem(`batch starts at ${check.header.baseOffset}, expected ${offset}`);
      const identity = checkBatchContent(batch, check.header, problem);
      if (identity !== null) {
        const key = `${identity.round}/${identity.seq}`;
        if (seen.has(key)) problem(`round ${identity.round} seq ${identity.seq} stored twice (again at ${check.header.baseOffset})`);
        seen.add(key);
        byBase.set(check.header.baseOffset, { ...identity, lastOffset: lastOffsetOf(check.header) });
      }
      offset = lastOffsetOf(check.header) + 1;
    }
    if (offset !== result.nextOffset) problem(`read said nextOffset ${result.nextOffset}, its batches end at ${offset}`);
  }
  let ackedFound = 0;
  for (const ack of acks) {
    const stored = byBase.get(ack.baseOffset);
    if (stored === undefined || stored.round !== ack.round || stored.seq !== ack.seq || stored.lastOffset !== ack.lastOffset) {
      problem(`acked round ${ack.round} seq ${ack.seq} at [${ack.baseOffset}, ${ack.lastOffset}] is not there (found ${JSON.stringify(stored ?? null)})`);
    } else {
      ackedFound += 1;
    }
  }
  return verdict();

  function verdict(): LogVerdict {
    const stored = new Map([...byBase].map(([base, identity]) => [base, `${identity.round}/${identity.seq}`]));
    return { batches, records, ackedFound, unacked: batches - ackedFound, problems, stored };
  }
}

// Checks one batch against the records its first key says it must hold; returns its identity.
function checkBatchContent(batch: Uint8Array, header: RecordBatchHeader, problem: (text: string) => void): { round: number; seq: number } | null {
  let stored;
  try {
    stored = decodeRecords(batch);
  } catch (error) {
    problem(`batch at ${header.baseOffset} does not decode: ${(error as Error).message}`);
    return null;
  }
  const identity = /^r(\d+)s(\d+)i0$/.exec(stored[0]?.key === null || stored[0] === undefined ? '' : decoder.decode(stored[0].key));
  if (identity === null) {
    problem(`batch at ${header.baseOffset} has no fault-test key`);
    return null;
  }
  const round = Number(identity[1]);
  const seq = Number(identity[2]);
  const expected = faultBatchRecords(round, seq);
  const same = stored.length === expected.length && stored.every((record, i) => {
    const want = expected[i]!;
    return record.offset === header.baseOffset + i && record.timestamp === want.timestamp
      && Buffer.from(record.key!).equals(want.key!) && Buffer.from(record.value!).equals(want.value!)
      && record.headers.length === 1 && record.headers[0]!.key === 'seq' && Buffer.from(record.headers[0]!.value!).equals(want.headers[0]!.value!);
  });
  if (!same) problem(`batch at ${header.baseOffset} (round ${round} seq ${seq}) holds other records than it should`);
  return { round, seq };
}

// ---- Looking at and damaging files ---------------------------------------------------------

/** A batch as found in a `.log` file. */
export interface BatchOnDisk {
  readonly segment: number;
  readonly position: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly sizeBytes: number;
}

/** The 20-digit file name prefix of a segment. */
export function segmentPrefix(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

export function logPath(directory: string, baseOffset: number): string {
  return join(directory, `${segmentPrefix(baseOffset)}.log`);
}

/** Every batch of every segment of a healthy partition directory, read from the files. */
export async function batchesOnDisk(directory: string, batchBytesMax = 1024 * 1024): Promise<BatchOnDisk[][]> {
  const names = (await readdir(directory)).filter((name) => /^\d{20}\.log$/.test(name)).sort();
  const segments: BatchOnDisk[][] = [];
  for (const name of names) {
    const segment = Number(name.slice(0, 20));
    const bytes = await readFile(join(directory, name));
    const batches: BatchOnDisk[] = [];
    for (let at = 0; at < bytes.length;) {
      const check = checkBatchFraming(bytes, at, batchBytesMax);
      if (check.kind !== 'valid') throw new Error(`${name} position ${at}: ${check.kind} (expected a healthy log)`);
      batches.push({ segment, position: at, baseOffset: check.header.baseOffset, lastOffset: lastOffsetOf(check.header), sizeBytes: check.sizeBytes });
      at += check.sizeBytes;
    }
    segments.push(batches);
  }
  return segments;
}

/** XORs the byte at `position` with `mask` (never 0, so it always changes). */
export async function flipByte(path: string, position: number, mask = 0x5a): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = byte[0]! ^ mask;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

/** Cuts `bytes` off the end of a file. */
export async function truncateBy(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate((await handle.stat()).size - bytes);
  } finally {
    await handle.close();
  }
}

/** Appends bytes to the end of a file. */
export async function appendBytes(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(bytes);
  } finally {
    await handle.close();
  }
}

/** `length` pseudo-random bytes from `random`. */
export function randomBytes(random: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
