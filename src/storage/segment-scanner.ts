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
 * The next chunk is read while this one is checked (recovery after a crash scans everything past
 * the recovery point, and waiting for each read in turn left the scan idle half the time).
 */
export async function scanSegment(
  handle: FileHandle, fromPosition: number, endPosition: number, batchBytesMax: number, visit: ScanVisitor,
  chunkBytes = SCAN_CHUNK_BYTES,
): Promise<ScanStop> {
  const reader = new ReadAheadReader(handle, fromPosition, endPosition, chunkBytes, batchBytesMax);
  try {
    // `buffered` holds the file's bytes from `position` on that are read and not yet consumed.
    let position = fromPosition;
    let buffered: Buffer = EMPTY;
    let bytesMissing = 1;
    while (position < endPosition) {
      const chunk = await reader.next(bytesMissing);
      buffered = joined(buffered, chunk);
      if (chunk.short) {
        // What did arrive is still checked: the tear is after the last whole batch.
        const fileEnd = position + buffered.length;
        const stop = scanBuffered(buffered, position, batchBytesMax, visit);
        if (stop.kind !== 'more' && stop.kind !== 'done') return stop;
        return { kind: 'torn', position: position + stop.consumed, reason: `file ends at ${fileEnd}, expected ${endPosition}` };
      }
      const stop = scanBuffered(buffered, position, batchBytesMax, visit);
      if (stop.kind !== 'more' && stop.kind !== 'done') return stop;
      position += stop.consumed;
      buffered = buffered.subarray(stop.consumed);
      if (stop.kind === 'more') {
        if (position + buffered.length >= endPosition) return { kind: 'torn', position, reason: stop.reason };
        bytesMissing = stop.batchBytes - buffered.length;
      } else {
        bytesMissing = 1;
      }
    }
    return { kind: 'end', position };
  } finally {
    // A read ahead still under way must not outlive the scan: the caller may close the handle.
    await reader.settle();
  }
}

const EMPTY = Buffer.alloc(0);

type BufferedScan =
  | { readonly kind: 'done'; readonly consumed: number }
  | { readonly kind: 'more'; readonly consumed: number; readonly batchBytes: number; readonly reason: string }
  | Exclude<ScanStop, { kind: 'end' }>;

// Checks the whole batches at the start of `bytes` (the file's bytes from `position` on). 'more':
// the batch after the consumed ones does not end inside `bytes`; 'done': every byte was consumed.
function scanBuffered(bytes: Buffer, position: number, batchBytesMax: number, visit: ScanVisitor): BufferedScan {
  let at = 0;
  for (;;) {
    const check = checkBatchFraming(bytes, at, batchBytesMax);
    if (check.kind === 'end') return { kind: 'done', consumed: at };
    if (check.kind === 'corrupt') return { kind: 'corrupt', position: position + at, reason: check.reason };
    if (check.kind === 'torn') return { kind: 'more', consumed: at, batchBytes: batchSizeAt(bytes, at), reason: check.reason };
    const batch = { position: position + at, header: check.header, sizeBytes: check.sizeBytes };
    if (visit(batch) === 'stop') return { kind: 'stopped', position: batch.position };
    at += check.sizeBytes;
  }
}

/** Bytes read in order from a segment; `short` when the file ended before the bytes asked for. */
interface ChunkRead {
  readonly bytes: Buffer;
  readonly short: boolean;
  /** Bytes free in front of `bytes` in the same allocation, for the rest of a batch read before them. */
  readonly room: number;
}

// The unconsumed tail of the last chunk (part of one batch) followed by `chunk`: copied into the
// room in front of the chunk, not both into a new buffer (copying every chunk whole was a quarter
// of a recovery scan's time).
function joined(tail: Buffer, chunk: ChunkRead): Buffer {
  if (tail.length === 0) return chunk.bytes;
  if (tail.length > chunk.room) return Buffer.concat([tail, chunk.bytes]);
  const start = chunk.bytes.byteOffset - tail.length;
  const both = Buffer.from(chunk.bytes.buffer, start, tail.length + chunk.bytes.length);
  tail.copy(both, 0);
  return both;
}

/**
 * Sequential reads of [from, end) in chunks, keeping one read ahead of the caller. Chunks are read
 * into three buffers in turn (the one whose tail the caller is copying, the one it scans, the one
 * being read ahead): a new buffer per chunk cost a recovery scan page faults on every chunk and
 * mark-compacts for the external memory (a sixth of its time).
 */
class ReadAheadReader {
  private readPosition: number;
  private ahead: Promise<ChunkRead> | null = null;
  private readonly buffers: Buffer[] = [];
  private readCount = 0;

  constructor(
    private readonly handle: FileHandle, from: number, private readonly end: number,
    private readonly chunkBytes: number, private readonly roomBytes: number,
  ) {
    this.readPosition = from;
  }

  /** The next bytes of the file in order: at least `minBytes` of them unless the file or `end` comes first. */
  async next(minBytes: number): Promise<ChunkRead> {
    let chunk = await (this.ahead ?? this.read(this.chunkBytes));
    this.ahead = null;
    if (!chunk.short && chunk.bytes.length < minBytes && this.readPosition < this.end) {
      // A batch larger than a chunk: the rest of it in one read, into a buffer of its own (the
      // three in turn still hold the caller's tail and this chunk).
      const rest = await this.read(minBytes - chunk.bytes.length, false);
      chunk = { bytes: Buffer.concat([chunk.bytes, rest.bytes]), short: rest.short, room: 0 };
    }
    if (!chunk.short && this.readPosition < this.end) this.ahead = this.read(this.chunkBytes);
    return chunk;
  }

  /** Waits for a read ahead still under way (its bytes or its error are not wanted). */
  async settle(): Promise<void> {
    await this.ahead?.catch(() => undefined);
    this.ahead = null;
  }

  private async read(length: number, pooled = true): Promise<ChunkRead> {
    const position = this.readPosition;
    const bounded = Math.min(length, this.end - position);
    this.readPosition += bounded;
    const room = pooled ? this.roomBytes : 0;
    const buffer = pooled ? this.bufferFor(room + bounded) : Buffer.allocUnsafe(bounded);
    const filled = await readInto(this.handle, buffer, room, position, bounded);
    return { bytes: buffer.subarray(room, room + filled), short: filled < bounded, room };
  }

  // allocUnsafeSlow: the room's pages are only touched when a batch's start is copied there.
  private bufferFor(length: number): Buffer {
    const slot = this.readCount++ % READ_BUFFERS;
    const current = this.buffers[slot];
    if (current !== undefined && current.length >= length) return current;
    const fresh = Buffer.allocUnsafeSlow(length);
    this.buffers[slot] = fresh;
    return fresh;
  }
}

/** The chunk whose tail is being copied, the chunk being scanned, the chunk being read ahead. */
const READ_BUFFERS = 3;

/** Below this size a batch's neighbours are read with it; from it on, only its header is read. */
const HEADER_WALK_SMALL_BATCH_BYTES = 64 * 1024;

/**
 * Visits the headers of the batches from `fromPosition` to `endPosition` of bytes that were
 * already verified (recovery checked everything past the recovery point; everything before it
 * was checked when written): no CRC, and a large batch's body is never read, only its 61-byte
 * header, so walking a 1 GiB segment of 256 KiB batches reads about 250 KB. Small batches are
 * read a chunk at a time. Stops quietly at anything that does not frame (the caller wanted
 * headers, not a verdict). `knownStarts` (ascending; the offset index's positions) lets the
 * headers there be read ahead, several at once, instead of one thread-pool round trip after
 * another; which batch comes next is still decided by the bytes alone.
 */
export async function walkVerifiedHeaders(
  handle: FileHandle, fromPosition: number, endPosition: number, visit: (header: RecordBatchHeader) => void,
  knownStarts: ArrayLike<number> = [],
): Promise<void> {
  const reads = new HeaderReads(handle, knownStarts, endPosition);
  try {
    let position = fromPosition;
    let readBytes: number = BATCH_HEADER_BYTES;
    while (position + BATCH_HEADER_BYTES <= endPosition) {
      const chunk = await reads.read(position, Math.min(readBytes, endPosition - position));
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
  } finally {
    // Reads ahead the walk never reached must not outlive it: the caller may close the handle.
    await reads.settle();
  }
}

/** Header reads issued ahead of the walk: a 1 GiB segment of 256 KiB batches is 4,096 of them. */
const HEADER_READS_AHEAD = 16;

/** The header walk's reads: a header at a known batch start comes from a read issued ahead. */
class HeaderReads {
  private readonly ahead = new Map<number, Promise<Buffer>>();
  private readonly passed: Promise<Buffer>[] = [];
  private nextStart = 0;

  constructor(private readonly handle: FileHandle, private readonly starts: ArrayLike<number>, private readonly endPosition: number) {}

  /** `length` bytes at `position` (fewer at the file's end). */
  read(position: number, length: number): Promise<Buffer> {
    // Only while the walk steps over large batches: a chunk of small ones holds the next headers.
    const headerOnly = length === BATCH_HEADER_BYTES;
    const early = headerOnly ? this.ahead.get(position) : undefined;
    this.ahead.delete(position);
    this.setAsidePassed(position);
    if (headerOnly) this.readAheadOf(position);
    return early ?? readExactly(this.handle, position, length);
  }

  /** Waits for every read still under way (their bytes and errors are not wanted). */
  async settle(): Promise<void> {
    const pending = [...this.passed.splice(0), ...this.ahead.values()];
    this.ahead.clear();
    await Promise.all(pending.map((read) => read.catch(() => undefined)));
  }

  // Reads at starts the walk has passed (it read them as part of a chunk) are set aside.
  private setAsidePassed(position: number): void {
    for (const [start, read] of this.ahead) {
      if (start > position) continue;
      this.passed.push(read);
      this.ahead.delete(start);
    }
  }

  // The next starts after `position` are read, up to HEADER_READS_AHEAD at once.
  private readAheadOf(position: number): void {
    while (this.nextStart < this.starts.length && this.starts[this.nextStart]! <= position) this.nextStart += 1;
    while (this.ahead.size < HEADER_READS_AHEAD && this.nextStart < this.starts.length) {
      const start = this.starts[this.nextStart++]!;
      if (start + BATCH_HEADER_BYTES > this.endPosition) break;
      const read = readExactly(this.handle, start, BATCH_HEADER_BYTES);
      // Handled here so that a read the walk never awaits cannot fail unhandled; settle() awaits it.
      read.catch(() => undefined);
      this.ahead.set(start, read);
    }
  }
}

/** Reads `length` bytes at `position`, fewer only when the file ends first. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const filled = await readInto(handle, buffer, 0, position, length);
  return filled === length ? buffer : buffer.subarray(0, filled);
}

// Fills buffer[at, at + length) from the file at `position`; returns the bytes read (fewer only at the file's end).
async function readInto(handle: FileHandle, buffer: Buffer, at: number, position: number, length: number): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, at + filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

function batchSizeAt(chunk: Buffer, at: number): number {
  if (chunk.length - at < LOG_OVERHEAD_BYTES) return LOG_OVERHEAD_BYTES;
  return chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES;
}
