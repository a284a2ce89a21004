/**
 * Kafka's RecordBatch v2 (magic 2), byte for byte. All integers are big-endian.
 *
 *   offset  size  field
 *   0       8     baseOffset            i64   stamped by the leader; outside the CRC
 *   8       4     batchLength           i32   bytes after this field (total size - 12)
 *   12      4     partitionLeaderEpoch  i32   stamped by the leader; outside the CRC
 *   16      1     magic                 i8    always 2
 *   17      4     crc                   u32   CRC-32C of bytes [21, end)
 *   21      2     attributes            i16   bits 0-2 compression, 3 timestamp type,
 *                                             4 transactional, 5 control
 *   23      4     lastOffsetDelta       i32
 *   27      8     baseTimestamp         i64   ms
 *   35      8     maxTimestamp          i64   ms
 *   43      8     producerId            i64   -1 when none
 *   51      2     producerEpoch         i16   -1 when none
 *   53      4     baseSequence          i32   -1 when none
 *   57      4     recordCount           i32
 *   61      ...   records
 *
 * Each record:
 *   length varint (bytes after it) | attributes i8 (unused, 0) | timestampDelta varlong |
 *   offsetDelta varint | keyLength varint (-1 = null) | key | valueLength varint (-1 = null) |
 *   value | headerCount varint | headers: keyLength varint | key (UTF-8) | valueLength varint
 *   (-1 = null) | value
 */

export const MAGIC_V2 = 2;

export const BASE_OFFSET_POSITION = 0;
export const BATCH_LENGTH_POSITION = 8;
export const PARTITION_LEADER_EPOCH_POSITION = 12;
export const MAGIC_POSITION = 16;
export const CRC_POSITION = 17;
export const ATTRIBUTES_POSITION = 21;
export const LAST_OFFSET_DELTA_POSITION = 23;
export const BASE_TIMESTAMP_POSITION = 27;
export const MAX_TIMESTAMP_POSITION = 35;
export const PRODUCER_ID_POSITION = 43;
export const PRODUCER_EPOCH_POSITION = 51;
export const BASE_SEQUENCE_POSITION = 53;
export const RECORD_COUNT_POSITION = 57;

/** Size of the fixed batch header; also the smallest possible batch (zero records). */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset and batchLength: the part of the header that batchLength does not count. */
export const LOG_OVERHEAD_BYTES = 12;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;

/** Compression codecs by their attribute value. Only `none` is supported for now. */
export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** Whether record timestamps were set by the producer or by the broker at append. */
export type TimestampType = 'create-time' | 'log-append-time';

/** One header of a record. Kafka allows repeated keys, so headers are an ordered list. */
export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** One record as a producer gives it and a consumer gets it. */
export interface Record {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

/** A record as read back from a batch: with its offset. */
export interface StoredRecord extends Record {
  readonly offset: number;
}

/** The producer identity a batch carries; null fields are -1 on disk. */
export interface ProducerInfo {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

/** The 61-byte header of a batch, decoded. */
export interface RecordBatchHeader {
  readonly baseOffset: number;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  /** null when the batch carries producerId -1. */
  readonly producer: ProducerInfo | null;
  readonly recordCount: number;
}

/** Total bytes of a batch whose header says `batchLength`. */
export function batchSizeBytes(batchLength: number): number {
  return batchLength + LOG_OVERHEAD_BYTES;
}

/** The offset of the last record of a batch. */
export function lastOffsetOf(header: Pick<RecordBatchHeader, 'baseOffset' | 'lastOffsetDelta'>): number {
  return header.baseOffset + header.lastOffsetDelta;
}
