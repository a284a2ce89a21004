import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 13 OffsetForLeaderEpoch (docs/protocol.md), apiVersion 2 (Kafka's API 23, KIP-101/KIP-320):
 *
 *   request  = replicaId i32 | partitions array<offsetForLeaderEpochPartition>
 *   offsetForLeaderEpochPartition = topic string | partition i32 | currentLeaderEpoch i32 | leaderEpoch i32
 *   response = responseHeader | partitions array<epochEndOffset>
 *   epochEndOffset = topic string | partition i32 | errorCode i16 | leaderEpoch i32 | endOffset i64
 *
 * A follower asks the leader where `leaderEpoch` (the latest epoch in its own log) ends, and
 * truncates its log there before fetching. The answer is the largest epoch <= `leaderEpoch` the
 * leader knows and the offset after its last record (the leader's log end for its current epoch);
 * -1 and -1 when the leader knows no such epoch. `currentLeaderEpoch` is checked as in Fetch
 * (-1: not checked).
 */

/** The `leaderEpoch` and `endOffset` of an answer without one (Kafka's UNDEFINED_EPOCH(_OFFSET)). */
export const UNDEFINED_LEADER_EPOCH = -1;
export const UNDEFINED_END_OFFSET = -1;

export interface OffsetForLeaderEpochPartition {
  readonly topic: string;
  readonly partition: number;
  /** The leader epoch the sender believes current; -1 skips the check. */
  readonly currentLeaderEpoch: number;
  /** The epoch whose end offset is asked for. */
  readonly leaderEpoch: number;
}

export interface OffsetForLeaderEpochRequest {
  /** The follower's broker id, or -1 for a consumer. */
  readonly replicaId: number;
  readonly partitions: readonly OffsetForLeaderEpochPartition[];
}

export interface EpochEndOffsetResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  /** The largest epoch <= the one asked that the leader knows; -1 when none (or on error). */
  readonly leaderEpoch: number;
  /** The offset after that epoch's last record; -1 when none (or on error). */
  readonly endOffset: number;
}

export interface OffsetForLeaderEpochResponse extends FullResponse {
  readonly partitions: readonly EpochEndOffsetResult[];
}

const PARTITION_BYTES_MIN = WIRE_BYTES.stringMin + 3 * WIRE_BYTES.i32;
const RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16 + WIRE_BYTES.i32 + WIRE_BYTES.i64;

export function encodeOffsetForLeaderEpochRequest(request: OffsetForLeaderEpochRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.i32(request.replicaId);
    writer.array(request.partitions, writePartition);
  });
}

export function decodeOffsetForLeaderEpochRequest(body: Uint8Array): OffsetForLeaderEpochRequest {
  return decodeBody(body, 'OffsetForLeaderEpoch request', (reader) => ({
    replicaId: reader.i32('replicaId'),
    partitions: reader.array('partitions', PARTITION_BYTES_MIN, readPartition),
  }));
}

export function encodeOffsetForLeaderEpochResponse(response: OrHeaderOnly<OffsetForLeaderEpochResponse>): Uint8Array {
  return encodeResponse<OffsetForLeaderEpochResponse>(response, (writer, full) => writer.array(full.partitions, writeResult));
}

export function decodeOffsetForLeaderEpochResponse(body: Uint8Array): OrHeaderOnly<OffsetForLeaderEpochResponse> {
  return decodeResponse(body, 'OffsetForLeaderEpoch response', (reader, header) => ({
    headerOnly: false,
    ...header,
    partitions: reader.array('partitions', RESULT_BYTES_MIN, readResult),
  }));
}

function writePartition(writer: ByteWriter, partition: OffsetForLeaderEpochPartition): void {
  writer.string(partition.topic);
  writer.i32(partition.partition);
  writer.i32(partition.currentLeaderEpoch);
  writer.i32(partition.leaderEpoch);
}

function readPartition(reader: ByteReader): OffsetForLeaderEpochPartition {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    currentLeaderEpoch: reader.i32('currentLeaderEpoch'),
    leaderEpoch: reader.i32('leaderEpoch'),
  };
}

function writeResult(writer: ByteWriter, result: EpochEndOffsetResult): void {
  writer.string(result.topic);
  writer.i32(result.partition);
  writer.i16(result.errorCode);
  writer.i32(result.leaderEpoch);
  writer.i64(result.endOffset);
}

function readResult(reader: ByteReader): EpochEndOffsetResult {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    errorCode: reader.i16('errorCode'),
    leaderEpoch: reader.i32('leaderEpoch'),
    endOffset: reader.i64('endOffset'),
  };
}
