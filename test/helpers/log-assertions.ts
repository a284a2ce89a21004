import { readdir } from 'node:fs/promises';
import { expect } from 'vitest';
import { SluiceError } from '../../src/errors/sluice-error.js';
import type { ErrorName } from '../../src/errors/error-codes.js';
import { LOG_OVERHEAD_BYTES, decodeBatchHeader, decodeRecords, type RecordBatchHeader } from '../../src/record/index.js';
import type { AppendResult, PartitionLog } from '../../src/storage/partition-log.js';
import { makeBatch } from './storage.js';
import { mulberry32 } from './random.js';

const textDecoder = new TextDecoder();

/** Upper bound on reads when following nextOffset; a log in a unit test never needs more. */
const READS_MAX = 100_000;

/** The values `makeBatch(tag, count, valueBytes)` puts into its records, in order. */
export function batchValues(tag: string, count: number, valueBytes = 100): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`.padEnd(valueBytes, '.'));
}

/** One batch to append, with what a reader should get back. */
export interface PlannedBatch {
  readonly bytes: Uint8Array;
  readonly sizeBytes: number;
  readonly recordCount: number;
  readonly values: readonly string[];
  readonly timestamp: number;
}

/** A `makeBatch` batch described for later assertions. */
export function planBatch(tag: string, recordCount: number, valueBytes = 100, timestamp = 1_700_000_000_000): PlannedBatch {
  const bytes = makeBatch(tag, recordCount, valueBytes, timestamp);
  return { bytes, sizeBytes: bytes.length, recordCount, values: batchValues(tag, recordCount, valueBytes), timestamp };
}

/** A planned batch together with the offsets its append returned. */
export interface AppendedBatch extends PlannedBatch, AppendResult {}

/** Appends one at a time, each awaited (one group commit per batch). */
export async function appendSequentially(log: PartitionLog, planned: readonly PlannedBatch[]): Promise<AppendedBatch[]> {
  const appended: AppendedBatch[] = [];
  for (const batch of planned) appended.push({ ...batch, ...(await log.append(batch.bytes)) });
  return appended;
}

/** Appends all at once (offsets are assigned in submission order; groups form as they may). */
export async function appendConcurrently(log: PartitionLog, planned: readonly PlannedBatch[]): Promise<AppendedBatch[]> {
  const results = await Promise.all(planned.map((batch) => log.append(batch.bytes)));
  return planned.map((batch, i) => ({ ...batch, ...results[i]! }));
}

/** Splits concatenated batches, as a read returns them, by their length fields. */
export function splitBatches(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    expect(bytes.length - at).toBeGreaterThanOrEqual(LOG_OVERHEAD_BYTES);
    const size = view.getInt32(at + 8) + LOG_OVERHEAD_BYTES;
    expect(at + size).toBeLessThanOrEqual(bytes.length);
    batches.push(bytes.subarray(at, at + size));
    at += size;
  }
  return batches;
}

/** Headers of the batches in a read's bytes. */
export function batchHeaders(bytes: Uint8Array): RecordBatchHeader[] {
  return splitBatches(bytes).map((batch) => decodeBatchHeader(batch));
}

/** A record as tests compare it: offset, timestamp and value text. */
export interface RecordSeen {
  readonly offset: number;
  readonly timestamp: number;
  readonly value: string;
}

/** Decodes every record of concatenated batches. */
export function recordsOf(bytes: Uint8Array): RecordSeen[] {
  return splitBatches(bytes).flatMap((batch) => decodeRecords(batch).map((record) => ({
    offset: record.offset,
    timestamp: record.timestamp,
    value: record.value === null ? '<null>' : textDecoder.decode(record.value),
  })));
}

/**
 * Reads from `fromOffset` by following nextOffset until `untilOffset` (LEO by default), checking
 * that every read makes progress. Returns the raw bytes of every read, concatenated.
 */
export async function readAllBytes(log: PartitionLog, maxBytes = 1024 * 1024, fromOffset = log.logStartOffset, untilOffset = log.logEndOffset): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = fromOffset;
  for (let reads = 0; offset < untilOffset; reads++) {
    expect(reads).toBeLessThan(READS_MAX);
    const result = await log.read(offset, maxBytes, untilOffset);
    expect(result.batchCount).toBeGreaterThan(0);
    expect(result.nextOffset).toBeGreaterThan(offset);
    parts.push(result.bytes.slice());
    offset = result.nextOffset;
  }
  expect(offset).toBe(untilOffset);
  return Buffer.concat(parts);
}

/** Every record from log start to LEO, read through nextOffset. */
export async function readAllRecords(log: PartitionLog, maxBytes?: number): Promise<RecordSeen[]> {
  return recordsOf(await readAllBytes(log, maxBytes));
}

/** The records appended, in offset order, as a reader should see them. */
export function expectedRecords(appended: readonly AppendedBatch[]): RecordSeen[] {
  return appended.flatMap((batch) => batch.values.map((value, i) => ({
    offset: batch.baseOffset + i, timestamp: batch.timestamp + i, value,
  })));
}

/** Base offsets of the segments in a partition directory, from the `.log` file names. */
export async function segmentBaseOffsets(directory: string): Promise<number[]> {
  const names = await readdir(directory);
  return names.filter((name) => /^\d{20}\.log$/.test(name)).map((name) => Number(name.slice(0, 20))).sort((a, b) => a - b);
}

/** Asserts that `promise` rejects with a SluiceError of the given name. */
export async function expectSluiceError(promise: Promise<unknown>, errorName: ErrorName): Promise<SluiceError> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(SluiceError);
  expect((error as SluiceError).errorName).toBe(errorName);
  return error as SluiceError;
}

/** A clock that moves only when told. */
export function manualClock(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let now = startMs;
  return { nowMs: () => now, advance: (ms) => { now += ms; } };
}

/** Deterministic pseudo-random numbers in [0, 1), for seeded tests. */
export const seededRandom = mulberry32;
