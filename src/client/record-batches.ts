import { SluiceError } from '../errors/sluice-error.js';
import {
  COMPRESSION_CODEC_MASK, CONTROL_MASK, CompressionCodec, checkBatchFraming, decodeRecords, type StoredRecord,
} from '../record/index.js';

/**
 * Reading the record bytes of a push or a Fetch: whole RecordBatch v2 batches back to back, each
 * checked (length, magic, CRC-32C) before anything in it is believed. The broker checks CRCs on
 * read as well (docs/decisions.md 5); the client checks again because the bytes crossed a network
 * and because "skipping CRC checks on read" is what STYLE.md says to leave behind.
 */

/** The batches in `records`, each a view (no copy), verified. A damaged batch is CORRUPT_MESSAGE. */
export function* verifiedBatches(records: Uint8Array, batchBytesMax: number): Generator<Uint8Array, void, undefined> {
  // Each step moves past a whole batch of at least 61 bytes, so this ends.
  for (let position = 0; position < records.length;) {
    const framing = checkBatchFraming(records, position, batchBytesMax);
    if (framing.kind !== 'valid') {
      throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position} of ${records.length}: ${framing.kind === 'end' ? 'nothing' : framing.reason}`);
    }
    const attributes = framing.header.attributes;
    const codec = attributes & COMPRESSION_CODEC_MASK;
    if (codec !== CompressionCodec.none) throw new SluiceError('UNSUPPORTED_COMPRESSION_TYPE', `batch at offset ${framing.header.baseOffset} uses codec ${codec}`);
    // Control batches (transaction markers) carry no user records.
    if ((attributes & CONTROL_MASK) === 0) yield records.subarray(position, position + framing.sizeBytes);
    position += framing.sizeBytes;
  }
}

/** Every record in `records` (verified batches, decoded), in offset order. */
export function decodeRecordBytes(records: Uint8Array, batchBytesMax: number): StoredRecord[] {
  const decoded: StoredRecord[] = [];
  for (const batch of verifiedBatches(records, batchBytesMax)) decoded.push(...decodeRecords(batch));
  return decoded;
}
