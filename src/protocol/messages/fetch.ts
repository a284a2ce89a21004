import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 5 Fetch (docs/protocol.md), apiVersion 2:
 *
 *   request  = replicaId i32 | maxWaitMs i32 | minBytes i32 | maxBytes i32 | partitions array<fetchPartition>
 *   fetchPartition = topic string | partition i32 | currentLeaderEpoch i32 | fetchOffset i64 | partitionMaxBytes i32
 *   response = responseHeader | partitions array<fetchPartitionResult>
 *   fetchPartitionResult = topic string | partition i32 | errorCode i16 | highWatermark i64
 *                          | logStartOffset i64 | records bytes
 *
 * `replicaId` is -1 for consumers and a broker id for followers. `records` holds whole batches
 * as stored (a view into the body when decoded); the first may start before `fetchOffset`.
 * `currentLeaderEpoch` is the leader epoch the sender believes current (-1: do not check); the
 * leader answers FENCED_LEADER_EPOCH when it is older than its own, UNKNOWN_LEADER_EPOCH when newer.
 */

/** The `replicaId` of a consumer's Fetch (reads stop at the high watermark). */
export const CONSUMER_REPLICA_ID = -1;

/** The `currentLeaderEpoch` that asks the broker not to check the leader epoch. */
export const NO_LEADER_EPOCH = -1;

export interface FetchPartition {
  readonly topic: string;
  readonly partition: number;
  /**
   * The leader epoch the sender knows for this partition; NO_LEADER_EPOCH (-1, also what an
   * absent field encodes as) skips the check. Always present when decoded.
   */
  readonly currentLeaderEpoch?: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
}

export interface FetchRequest {
  /** CONSUMER_REPLICA_ID (-1) for a consumer, else the follower's broker id. */
  readonly replicaId: number;
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly partitions: readonly FetchPartition[];
}

export interface FetchPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Whole RecordBatch v2 batches, back to back, exactly as stored. */
  readonly records: Uint8Array;
}

export interface FetchResponse extends FullResponse {
  readonly partitions: readonly FetchPartitionResult[];
}

const FETCH_PARTITION_BYTES_MIN = WIRE_BYTES.stringMin + 2 * WIRE_BYTES.i32 + WIRE_BYTES.i64 + WIRE_BYTES.i32;
const FETCH_PARTITION_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16
  + 2 * WIRE_BYTES.i64 + WIRE_BYTES.bytesMin;
/** Room for the header and the fixed fields, so a response's buffer is allocated once. */
const FETCH_RESPONSE_OVERHEAD_BYTES = 64;

export function encodeFetchRequest(request: FetchRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.i32(request.replicaId);
    writer.i32(request.maxWaitMs);
    writer.i32(request.minBytes);
    writer.i32(request.maxBytes);
    writer.array(request.partitions, writeFetchPartition);
  });
}

export function decodeFetchRequest(body: Uint8Array): FetchRequest {
  return decodeBody(body, 'Fetch request', (reader) => ({
    replicaId: reader.i32('replicaId'),
    maxWaitMs: reader.i32('maxWaitMs'),
    minBytes: reader.i32('minBytes'),
    maxBytes: reader.i32('maxBytes'),
    partitions: reader.array('partitions', FETCH_PARTITION_BYTES_MIN, readFetchPartition),
  }));
}

export function encodeFetchResponse(response: OrHeaderOnly<FetchResponse>): Uint8Array {
  return encodeResponse<FetchResponse>(
    response, (writer, full) => writer.array(full.partitions, writeFetchPartitionResult), fetchResponseBytesHint(response),
  );
}

export function decodeFetchResponse(body: Uint8Array): OrHeaderOnly<FetchResponse> {
  return decodeResponse(body, 'Fetch response', (reader, header) => ({
    headerOnly: false,
    ...header,
    partitions: reader.array('partitions', FETCH_PARTITION_RESULT_BYTES_MIN, readFetchPartitionResult),
  }));
}

function writeFetchPartition(writer: ByteWriter, partition: FetchPartition): void {
  writer.string(partition.topic);
  writer.i32(partition.partition);
  writer.i32(partition.currentLeaderEpoch ?? NO_LEADER_EPOCH);
  writer.i64(partition.fetchOffset);
  writer.i32(partition.partitionMaxBytes);
}

function readFetchPartition(reader: ByteReader): FetchPartition {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    currentLeaderEpoch: reader.i32('currentLeaderEpoch'),
    fetchOffset: reader.i64('fetchOffset'),
    partitionMaxBytes: reader.i32('partitionMaxBytes'),
  };
}

function writeFetchPartitionResult(writer: ByteWriter, result: FetchPartitionResult): void {
  writer.string(result.topic);
  writer.i32(result.partition);
  writer.i16(result.errorCode);
  writer.i64(result.highWatermark);
  writer.i64(result.logStartOffset);
  writer.bytes(result.records);
}

function readFetchPartitionResult(reader: ByteReader): FetchPartitionResult {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    errorCode: reader.i16('errorCode'),
    highWatermark: reader.i64('highWatermark'),
    logStartOffset: reader.i64('logStartOffset'),
    records: reader.bytes('records'),
  };
}

/** Close to the encoded size: the records dominate, topics count 3 bytes per UTF-16 unit at most. */
function fetchResponseBytesHint(response: OrHeaderOnly<FetchResponse>): number {
  let bytes = FETCH_RESPONSE_OVERHEAD_BYTES;
  if (response.headerOnly) return bytes;
  for (const result of response.partitions) {
    bytes += FETCH_PARTITION_RESULT_BYTES_MIN + result.topic.length * 3 + result.records.length;
  }
  return bytes;
}
