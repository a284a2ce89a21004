import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 11 OffsetCommit (docs/protocol.md: *planned*, no body layout given there), apiVersion 2 (layout unchanged since 1).
 * The layout this codec defines, after Kafka's OffsetCommit:
 *
 *   request  = group string | generationId i32 | memberId string | offsets array<offsetCommitPartition>
 *   offsetCommitPartition = topic string | partition i32 | offset i64 | metadata nullableString
 *   response = responseHeader | results array<offsetCommitResult>
 *   offsetCommitResult    = topic string | partition i32 | errorCode i16
 *
 * A broker that does not serve it yet answers INVALID_REQUEST with a header-only response.
 */

export interface OffsetCommitPartition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset the group will consume. */
  readonly offset: number;
  readonly metadata: string | null;
}

export interface OffsetCommitRequest {
  readonly group: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly offsets: readonly OffsetCommitPartition[];
}

export interface OffsetCommitResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
}

export interface OffsetCommitResponse extends FullResponse {
  readonly results: readonly OffsetCommitResult[];
}

const OFFSET_COMMIT_PARTITION_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i64
  + WIRE_BYTES.nullableStringMin;
const OFFSET_COMMIT_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16;

export function encodeOffsetCommitRequest(request: OffsetCommitRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.string(request.group);
    writer.i32(request.generationId);
    writer.string(request.memberId);
    writer.array(request.offsets, writeOffsetCommitPartition);
  });
}

export function decodeOffsetCommitRequest(body: Uint8Array): OffsetCommitRequest {
  return decodeBody(body, 'OffsetCommit request', (reader) => ({
    group: reader.string('group'),
    generationId: reader.i32('generationId'),
    memberId: reader.string('memberId'),
    offsets: reader.array('offsets', OFFSET_COMMIT_PARTITION_BYTES_MIN, readOffsetCommitPartition),
  }));
}

export function encodeOffsetCommitResponse(response: OrHeaderOnly<OffsetCommitResponse>): Uint8Array {
  return encodeResponse<OffsetCommitResponse>(response, (writer, full) => writer.array(full.results, writeOffsetCommitResult));
}

export function decodeOffsetCommitResponse(body: Uint8Array): OrHeaderOnly<OffsetCommitResponse> {
  return decodeResponse(body, 'OffsetCommit response', (reader, header) => ({
    headerOnly: false,
    ...header,
    results: reader.array('results', OFFSET_COMMIT_RESULT_BYTES_MIN, readOffsetCommitResult),
  }));
}

function writeOffsetCommitPartition(writer: ByteWriter, partition: OffsetCommitPartition): void {
  writer.string(partition.topic);
  writer.i32(partition.partition);
  writer.i64(partition.offset);
  writer.nullableString(partition.metadata);
}

function readOffsetCommitPartition(reader: ByteReader): OffsetCommitPartition {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    offset: reader.i64('offset'),
    metadata: reader.nullableString('metadata'),
  };
}

function writeOffsetCommitResult(writer: ByteWriter, result: OffsetCommitResult): void {
  writer.string(result.topic);
  writer.i32(result.partition);
  writer.i16(result.errorCode);
}

function readOffsetCommitResult(reader: ByteReader): OffsetCommitResult {
  return { topic: reader.string('topic'), partition: reader.i32('partition'), errorCode: reader.i16('errorCode') };
}
