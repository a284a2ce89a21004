import type { Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { LOG_OVERHEAD_BYTES, checkBatchFraming, decodeRecords, lastOffsetOf } from '../record/index.js';
import { concatBytes } from '../record/concat-bytes.js';
import type { LogSegment } from './log-segment.js';

/**
 * Reads of one segment file, by offset and by timestamp, through its sparse indexes: where the
 * partition log's reads (and truncation) meet the bytes on disk.
 */

/** Whole raw batches from one segment, and where the next read should start. */
export interface LogReadResult {
  /** Concatenated RecordBatch v2 bytes, as stored; shared with the tail cache, so never to be modified. */
  readonly bytes: Uint8Array;
  readonly batchCount: number;
  /** Offset after the last returned batch (the start offset when nothing was returned). */
  readonly nextOffset: number;
}

/** What a segment read needs of the log's config, and where it reports a corrupt batch. */
export interface SegmentReadOptions {
  readonly batchBytesMax: number;
  readonly indexIntervalBytes: number;
  readonly logger: Logger;
}

/**
 * Reads whole batches of `segment` from the one holding `startOffset`, up to `maxBytes` (at least
 * one batch), stopping before a batch that reaches `bound`. Each batch's framing and CRC are
 * checked; a corrupt one ends the read after the good batches before it, or is refused
 * (CORRUPT_MESSAGE) when it comes first.
 */
export async function readSegment(segment: LogSegment, startOffset: number, maxBytes: number, bound: number, options: SegmentReadOptions): Promise<LogReadResult> {
  const { batchBytesMax } = options;
  const entry = segment.offsetIndex.lookup(startOffset);
  const parts: Uint8Array[] = [];
  let totalBytes = 0;
  let nextOffset = startOffset;
  let position = entry.position;
  let chunkBytes = options.indexIntervalBytes + maxBytes;
  // Each pass either consumes a chunk or grows it to hold one whole batch, so it ends.
  for (let pass = 0; position < segment.sizeBytes; pass++) {
    assert(pass < 1_000_000, 'read loop is bounded by the segment size');
    const chunk = await segment.read(position, chunkBytes);
    let at = 0;
    let done = false;
    while (!done) {
      const check = checkBatchFraming(chunk, at, batchBytesMax);
      if (check.kind === 'end') break;
      if (check.kind === 'torn' && position + chunk.length < segment.sizeBytes) {
        chunkBytes = Math.max(chunkBytes, batchSizeAt(chunk, at));
        break;
      }
      if (check.kind !== 'valid') {
        if (parts.length > 0) return { bytes: joined(parts, totalBytes), batchCount: parts.length, nextOffset };
        options.logger.error({ segment: segment.baseOffset, position: position + at, reason: check.reason }, 'refusing to serve a corrupt batch');
        throw new SluiceError('CORRUPT_MESSAGE', `segment ${segment.baseOffset} position ${position + at}: ${check.reason}`);
      }
      const lastOffset = lastOffsetOf(check.header);
      if (lastOffset >= startOffset) {
        if (lastOffset >= bound || (parts.length > 0 && totalBytes + check.sizeBytes > maxBytes)) {
          done = true;
          break;
        }
        parts.push(chunk.subarray(at, at + check.sizeBytes));
        totalBytes += check.sizeBytes;
        nextOffset = lastOffset + 1;
      }
      at += check.sizeBytes;
    }
    if (done || totalBytes >= maxBytes) break;
    position += at;
  }
  return { bytes: joined(parts, totalBytes), batchCount: parts.length, nextOffset };
}

// Batches read in one chunk lie back to back in it: one view of them, not a copy (a copy of every
// read cost a consumer reading from the start an allocation of up to maxBytes per fetch or push).
// Parts from different chunks are copied together.
function joined(parts: readonly Uint8Array[], totalBytes: number): Uint8Array {
  for (let i = 1; i < parts.length; i++) {
    const previous = parts[i - 1]!;
    const part = parts[i]!;
    if (part.buffer !== previous.buffer || part.byteOffset !== previous.byteOffset + previous.length) return concatBytes(parts, totalBytes);
  }
  const first = parts[0];
  return first === undefined ? new Uint8Array(0) : new Uint8Array(first.buffer, first.byteOffset, totalBytes);
}

/** The offset of the first record in `segment` at or after `fromOffset` whose timestamp is at least `timestamp`, or null. */
export async function firstRecordAtOrAfter(segment: LogSegment, fromOffset: number, timestamp: number, options: SegmentReadOptions): Promise<number | null> {
  let offset = Math.max(fromOffset, segment.baseOffset);
  while (offset < segment.nextOffset) {
    const result = await readSegment(segment, offset, options.indexIntervalBytes, segment.nextOffset, options);
    if (result.batchCount === 0) return null;
    for (const batch of splitBatches(result.bytes)) {
      const header = checkBatchFraming(batch, 0, options.batchBytesMax);
      if (header.kind !== 'valid' || header.header.maxTimestamp < timestamp) continue;
      const record = decodeRecords(batch).find((candidate) => candidate.timestamp >= timestamp);
      if (record !== undefined) return record.offset;
    }
    offset = result.nextOffset;
  }
  return null;
}

/** Where the batch holding `offset` starts in `segment` (or the segment's end when none does), and its base offset. */
export async function batchBoundaryAtOrBefore(segment: LogSegment, offset: number): Promise<{ position: number; offset: number }> {
  const entry = segment.offsetIndex.lookup(offset);
  let boundary = { position: entry.position, offset: entry.offset };
  const stop = await segment.scan(entry.position, (batch) => {
    if (lastOffsetOf(batch.header) >= offset) return 'stop';
    boundary = { position: batch.position + batch.sizeBytes, offset: lastOffsetOf(batch.header) + 1 };
    return 'continue';
  });
  return stop.kind === 'stopped' ? { position: stop.position, offset: boundary.offset } : boundary;
}

// Size of the batch starting at `at` per its length field (enough bytes to read that field if not).
function batchSizeAt(chunk: Uint8Array, at: number): number {
  if (chunk.length - at < LOG_OVERHEAD_BYTES) return LOG_OVERHEAD_BYTES;
  return new DataView(chunk.buffer, chunk.byteOffset + at).getInt32(8) + LOG_OVERHEAD_BYTES;
}

/** Splits concatenated, already-validated batches. */
function* splitBatches(bytes: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length;) {
    const size = view.getInt32(at + 8) + LOG_OVERHEAD_BYTES;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}
