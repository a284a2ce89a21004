export * from './record-batch-format.js';
export { crc32c, crc32cImplementation, type Crc32cImplementation } from './crc32c.js';
export { encodeRecordBatch, type RecordBatchInput } from './record-batch-encoder.js';
export { RecordBatchBuilder, recordBytesBound, type BatchHeaderInput, type RecordBytesInput, type RecordHeaderInput } from './record-batch-builder.js';
export { decodeBatchHeader, decodeRecords, decodeRecordsAs, type RecordFactory } from './record-batch-decoder.js';
export { checkBatchFraming, validateProducedBatch, type FramingCheck } from './record-batch-validator.js';
export { stampBatch } from './record-batch-stamp.js';
export { readVarint, readVarlong, varintSize, writeVarint, type VarintRead } from './varint.js';
