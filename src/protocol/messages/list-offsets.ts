import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 9 ListOffsets (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   request  = partitions array<listOffsetsPartition>
 *   listOffsetsPartition = topic string | partition i32 | spec u8 | timestamp i64
 *           spec: 0 earliest, 1 latest (the high watermark), 2 first offset with timestamp >= `timestamp`
 *   response = responseHeader | partitions array<listOffsetsResult>
 *   listOffsetsResult = topic string | partition i32 | errorCode i16 | found bool | offset i64 | timestamp i64
 *
 * `found` is false when no record has a timestamp at or after the one asked (spec 2). `spec` is
 * decoded as any u8; the broker judges it.
 */

export const ListOffsetsSpec = {
  earliest: 0,
  /** The high watermark. */
  latest: 1,
  /** The first offset whose timestamp is at or after `timestamp`. */
  byTimestamp: 2,
} as const;

export type ListOffsetsSpec = (typeof ListOffsetsSpec)[keyof typeof ListOffsetsSpec];

export interface ListOffsetsPartition {
  readonly topic: string;
  readonly partition: number;
  /** A ListOffsetsSpec when well formed; any u8 as decoded. */
  readonly spec: number;
  /** Ms; used by spec 2. */
  readonly timestamp: number;
}

export interface ListOffsetsRequest {
  readonly partitions: readonly ListOffsetsPartition[];
}

export interface ListOffsetsResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly found: boolean;
  readonly offset: number;
  /** Ms. */
  readonly timestamp: number;
}

export interface ListOffsetsResponse extends FullResponse {
  readonly partitions: readonly ListOffsetsResult[];
}

const LIST_OFFSETS_PARTITION_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.u8 + WIRE_BYTES.i64;
const LIST_OFFSETS_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16 + WIRE_BYTES.bool
  + 2 * WIRE_BYTES.i64;

export function encodeListOffsetsRequest(request: ListOffsetsRequest): Uint8Array {
  return encodeBody((writer) => writer.array(request.partitions, writeListOffsetsPartition));
}

export function decodeListOffsetsRequest(body: Uint8Array): ListOffsetsRequest {
  return decodeBody(body, 'ListOffsets request', (reader) => ({
    partitions: reader.array('partitions', LIST_OFFSETS_PARTITION_BYTES_MIN, readListOffsetsPartition),
  }));
}

export function encodeListOffsetsResponse(response: OrHeaderOnly<ListOffsetsResponse>): Uint8Array {
  return encodeResponse<ListOffsetsResponse>(response, (writer, full) => writer.array(full.partitions, writeListOffsetsResult));
}

export function decodeListOffsetsResponse(body: Uint8Array): OrHeaderOnly<ListOffsetsResponse> {
  return decodeResponse(body, 'ListOffsets response', (reader, header) => ({
    headerOnly: false,
    ...header,
    partitions: reader.array('partitions', LIST_OFFSETS_RESULT_BYTES_MIN, readListOffsetsResult),
  }));
}

function writeListOffsetsPartition(writer: ByteWriter, partition: ListOffsetsPartition): void {
  writer.string(partition.topic);
  writer.i32(partition.partition);
  writer.u8(partition.spec);
  writer.i64(partition.timestamp);
}

function readListOffsetsPartition(reader: ByteReader): ListOffsetsPartition {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    spec: reader.u8('spec'),
    timestamp: reader.i64('timestamp'),
  };
}

function writeListOffsetsResult(writer: ByteWriter, result: ListOffsetsResult): void {
  writer.string(result.topic);
  writer.i32(result.partition);
  writer.i16(result.errorCode);
  writer.bool(result.found);
  writer.i64(result.offset);
  writer.i64(result.timestamp);
}

function readListOffsetsResult(reader: ByteReader): ListOffsetsResult {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    errorCode: reader.i16('errorCode'),
    found: reader.bool('found'),
    offset: reader.i64('offset'),
    timestamp: reader.i64('timestamp'),
  };
}
