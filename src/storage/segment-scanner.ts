import type { FileHandle } from 'node:fs/promises';
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, checkBatchFraming, decodeBatchHeader, type RecordBatchHeader } from '../record/index.js';

/** One batch found by a scan: where it starts, its header, its total size. */
export interface ScannedBatch {
  readonly position: number;
  readonly header: RecordBatchHeader;
  readonly sizeBytes: number;
}

/** Why a scan stopped. `position` is where the first unusable byte starts. */
export type ScanStop =
  | { readonly kind: 'end'; readonly position: number }
  | { readonly kind: 'stopped'; readonly position: number }
  | { readonly kind: 'torn' | 'corrupt'; readonly position: number; readonly reason: string };

/** Return 'stop' to end the scan early, before the batch just seen. */
export type ScanVisitor = (batch: ScannedBatch) => 'continue' | 'stop';

/** Bytes read per pread while scanning; a larger batch gets a read of its own size. */
export const SCAN_CHUNK_BYTES = 1024 * 1024;

/**
 * Walks the batches of a segment file from `fromPosition` to `endPosition`, checking framing and
 * CRC-32C of each, reading in chunks. It stops at the first torn or corrupt batch and says where.
 */
export async function scanSegment(
  handle: FileHandle, fromPosition: number, endPosition: number, batchBytesMax: number, visit: ScanVisitor,
): Promise<ScanStop> {
  let position = fromPosition;
  let bytesNeeded = LOG_OVERHEAD_BYTES;
  while (position < endPosition) {
    const length = Math.min(endPosition - position, Math.max(SCAN_CHUNK_BYTES, bytesNeeded));
    const chunk = await readExactly(handle, position, length);
    if (chunk.length < length) {
      return { kind: 'torn', position: position + chunk.length, reason: `file ends at ${position + chunk.length}, expected ${endPosition}` };
    }
    let at = 0;
    for (;;) {
      const check = checkBatchFraming(chunk, at, batchBytesMax);
      if (check.kind === 'end') break;
      if (check.kind === 'corrupt') return { kind: 'corrupt', position: position + at, reason: check.reason };
      if (check.kind === 'torn') {
        if (position + chunk.length >= endPosition) return { kind: 'torn', position: position + at, reason: check.reason };
        bytesNeeded = batchSizeAt(chunk, at);
        break;
      }
      const batch = { position: position + at, header: check.header, sizeBytes: check.sizeBytes };
      if (visit(batch) === 'stop') return { kind: 'stopped', position: batch.position };
      at += check.sizeBytes;
    }
    position += at;
  }
  return { kind: 'end', position };
}

/** Below this size a batch's neighbours are read with it; from it on, only its header is read. */
const HEADER_WALK_SMALL_BATCH_BYTES = 64 * 1024;

/**
 * Visits the headers of the batches from `fromPosition` to `endPosition` of bytes that were
 * already verified (recovery checked everything past the recovery point; everything before it
 * was checked when written): no CRC, and a large batch's body is never read, only its 61-byte
 * header, so walking a 1 GiB segment of 256 KiB batches reads about 250 KB. Small batches are
 * read a chunk at a time. Stops quietly at anything that does not frame (the caller wanted
 * headers, not a verdict).
 */
export async function walkVerifiedHeaders(handle: FileHandle, fromPosition: number, endPosition: number, visit: (header: RecordBatchHeader) => void): Promise<void> {
  let position = fromPosition;
  let readBytes: number = BATCH_HEADER_BYTES;
  while (position + BATCH_HEADER_BYTES <= endPosition) {
    const chunk = await readExactly(handle, position, Math.min(readBytes, endPosition - position));
    let at = 0;
    // Every batch whose header lies in the chunk is visited; `at` may step past the chunk's end.
    while (at + BATCH_HEADER_BYTES <= chunk.length) {
      const sizeBytes = batchSizeAt(chunk, at);
      if (sizeBytes < BATCH_HEADER_BYTES || position + at + sizeBytes > endPosition) return;
      visit(decodeBatchHeader(chunk, at));
      at += sizeBytes;
      // A small batch wants its neighbours read with it; a large one is stepped over.
      readBytes = sizeBytes < HEADER_WALK_SMALL_BATCH_BYTES ? SCAN_CHUNK_BYTES : BATCH_HEADER_BYTES;
    }
    // Only a file shorter than endPosition leaves nothing visited.
    if (at === 0) return;
    position += at;
  }
}

/** Reads `length` bytes at `position`, fewer only when the file ends first. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

function batchSizeAt(chunk: Buffer, at: number): number {
  if (chunk.length - at < LOG_OVERHEAD_BYTES) return LOG_OVERHEAD_BYTES;
  return chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES;
}
