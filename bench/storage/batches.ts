import { encodeRecordBatch, type Record } from '../../src/record/index.js';

/**
 * Producer batches for the bench: `recordsPerBatch` records of `valueBytes` each, no key, no
 * headers, uncompressed. Values are pseudo-random from a fixed seed, so runs write the same
 * bytes. PartitionLog.append stamps offsets into the bytes it is given, so every append needs
 * its own copy (`template.slice()`), as a broker gets a fresh buffer per request.
 */
export function encodeTemplateBatch(recordsPerBatch: number, valueBytes: number, timestampMs: number): Uint8Array {
  const values = pseudoRandomBytes(recordsPerBatch * valueBytes, recordsPerBatch);
  const records: Record[] = [];
  for (let index = 0; index < recordsPerBatch; index++) {
    const value = values.subarray(index * valueBytes, (index + 1) * valueBytes);
    records.push({ key: null, value, headers: [], timestamp: timestampMs });
  }
  return encodeRecordBatch({ records });
}

/** xorshift32 from `seed`: deterministic, incompressible enough for a log that never compresses. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}
