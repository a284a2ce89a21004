import { SluiceError } from '../errors/sluice-error.js';
import { crc32c } from './crc32c.js';
import { checkRecords, decodeBatchHeader } from './record-batch-decoder.js';
import {
  ATTRIBUTES_POSITION, BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION, COMPRESSION_CODEC_MASK, CONTROL_MASK, CRC_POSITION,
  CompressionCodec, LOG_OVERHEAD_BYTES, MAGIC_POSITION, MAGIC_V2, batchSizeBytes,
  type RecordBatchHeader,
} from './record-batch-format.js';

/** The verdict on the bytes at one position of a log or a frame. */
export type FramingCheck =
  | { readonly kind: 'valid'; readonly header: RecordBatchHeader; readonly sizeBytes: number }
  /** Nothing at all remains: a clean end. */
  | { readonly kind: 'end' }
  /** The bytes stop inside a batch whose header looked sane: a write cut short. */
  | { readonly kind: 'torn'; readonly reason: string }
  /** The bytes are there but wrong: bad length, magic or CRC. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Checks the framing of the batch starting at `position`: length within [61, batchBytesMax],
 * all its bytes present, magic 2, and CRC-32C. It never reads past a length before checking it.
 */
export function checkBatchFraming(bytes: Uint8Array, position: number, batchBytesMax: number): FramingCheck {
  const remaining = bytes.length - position;
  if (remaining === 0) return { kind: 'end' };
  if (remaining < LOG_OVERHEAD_BYTES) return { kind: 'torn', reason: `${remaining} bytes, fewer than a batch's length prefix` };
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, remaining);
  const sizeBytes = batchSizeBytes(view.getInt32(BATCH_LENGTH_POSITION));
  if (sizeBytes < BATCH_HEADER_BYTES || sizeBytes > batchBytesMax) {
    return { kind: 'corrupt', reason: `batch size ${sizeBytes} bytes is outside [${BATCH_HEADER_BYTES}, ${batchBytesMax}]` };
  }
  if (remaining > MAGIC_POSITION && view.getInt8(MAGIC_POSITION) !== MAGIC_V2) {
    return { kind: 'corrupt', reason: `magic ${view.getInt8(MAGIC_POSITION)}, expected ${MAGIC_V2}` };
  }
  if (remaining < sizeBytes) return { kind: 'torn', reason: `batch of ${sizeBytes} bytes has only ${remaining}` };
  const expectedCrc = view.getUint32(CRC_POSITION);
  const actualCrc = crc32c(bytes.subarray(position + ATTRIBUTES_POSITION, position + sizeBytes));
  if (actualCrc !== expectedCrc) {
    return { kind: 'corrupt', reason: `CRC-32C is 0x${hex(actualCrc)}, header says 0x${hex(expectedCrc)}` };
  }
  // A valid CRC can still cover an i64 we cannot hold exactly, and baseOffset lies outside it.
  try {
    return { kind: 'valid', header: decodeBatchHeader(bytes, position), sizeBytes };
  } catch (error) {
    if (error instanceof SluiceError) return { kind: 'corrupt', reason: error.message };
    throw error;
  }
}

/**
 * Validates one batch as it arrives from a producer, before anything stamps or stores it:
 * exactly one well-framed batch, no compression, and records that agree with the header.
 * Throws a typed SluiceError; returns the decoded header.
 */
export function validateProducedBatch(batch: Uint8Array, batchBytesMax: number): RecordBatchHeader {
  if (batch.length > batchBytesMax) {
    throw new SluiceError('MESSAGE_TOO_LARGE', `batch of ${batch.length} bytes exceeds batchBytesMax ${batchBytesMax}`);
  }
  const framing = checkBatchFraming(batch, 0, batchBytesMax);
  if (framing.kind !== 'valid') throw new SluiceError('CORRUPT_MESSAGE', framing.kind === 'end' ? 'empty batch' : framing.reason);
  if (framing.sizeBytes !== batch.length) {
    throw new SluiceError('CORRUPT_MESSAGE', `batch declares ${framing.sizeBytes} bytes but ${batch.length} were given`);
  }
  const header = framing.header;
  const codec = header.attributes & COMPRESSION_CODEC_MASK;
  if (codec !== CompressionCodec.none) throw new SluiceError('UNSUPPORTED_COMPRESSION_TYPE', `codec ${codec}`);
  // Control batches are the broker's own markers (transaction ends); consumers skip them, so a
  // client's records in one would be acknowledged and never delivered. Kafka refuses them too.
  if ((header.attributes & CONTROL_MASK) !== 0) throw new SluiceError('INVALID_RECORD', 'control batches are written by the broker, not by producers');
  checkRecordsAgreeWithHeader(batch, header);
  return header;
}

function checkRecordsAgreeWithHeader(batch: Uint8Array, header: RecordBatchHeader): void {
  if (header.recordCount < 1) throw new SluiceError('INVALID_RECORD', `recordCount ${header.recordCount}`);
  if (header.lastOffsetDelta !== header.recordCount - 1) {
    throw new SluiceError('INVALID_RECORD', `lastOffsetDelta ${header.lastOffsetDelta} with ${header.recordCount} records`);
  }
  checkRecords(batch, header);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
