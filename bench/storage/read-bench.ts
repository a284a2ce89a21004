import { performance } from 'node:perf_hooks';
import { assert } from '../../src/errors/assert.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';

/** A sequential read of a whole log through PartitionLog.read. */
export interface ReadResult {
  readonly readBytesMax: number;
  readonly readCalls: number;
  readonly batches: number;
  readonly records: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
  readonly recordsPerSecond: number;
  /** The log was written just before: its pages are in the page cache, not read from the disk. */
  readonly pageCache: 'warm';
}

/**
 * Reads from the log start to the log end, following nextOffset, `readBytesMax` per call, as a
 * consumer fetch loop does. Every batch is CRC-checked by the log on the way.
 */
export async function runReadBench(log: PartitionLog, readBytesMax: number): Promise<ReadResult> {
  const startOffset = log.logStartOffset;
  const endOffset = log.logEndOffset;
  let offset = startOffset;
  let readCalls = 0;
  let batches = 0;
  let bytes = 0;
  const startMs = performance.now();
  while (offset < endOffset) {
    const result = await log.read(offset, readBytesMax);
    assert(result.nextOffset > offset, `read at ${offset} made progress`);
    readCalls += 1;
    batches += result.batchCount;
    bytes += result.bytes.length;
    offset = result.nextOffset;
  }
  const elapsedMs = performance.now() - startMs;
  assert(offset === endOffset, 'the read ended at the log end');
  const seconds = elapsedMs / 1000;
  const records = endOffset - startOffset;
  return {
    readBytesMax, readCalls, batches, records, bytes, elapsedMs,
    bytesPerSecond: bytes / seconds,
    recordsPerSecond: records / seconds,
    pageCache: 'warm',
  };
}
