import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 12 OffsetFetch (docs/protocol.md: *planned*, no body layout given there), apiVersion 2 (layout unchanged since 1).
 * The layout this codec defines, after Kafka's OffsetFetch:
 *
 *   request  = group string | partitions array<offsetFetchPartition>
 *   offsetFetchPartition = topic string | partition i32
 *   response = responseHeader | results array<offsetFetchResult>
 *   offsetFetchResult    = topic string | partition i32 | errorCode i16 | found bool | offset i64
 *                          | metadata nullableString
 *
 * `found` is false when the group has committed no offset for the partition (then `offset` and
 * `metadata` carry nothing). A broker that does not serve it yet answers INVALID_REQUEST with a
 * header-only response.
 */

export interface OffsetFetchPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetFetchRequest {
  readonly group: string;
  readonly partitions: readonly OffsetFetchPartition[];
}

export interface OffsetFetchResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly found: boolean;
  readonly offset: number;
  readonly metadata: string | null;
}

export interface OffsetFetchResponse extends FullResponse {
  readonly results: readonly OffsetFetchResult[];
}

const OFFSET_FETCH_PARTITION_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32;
const OFFSET_FETCH_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16 + WIRE_BYTES.bool
  + WIRE_BYTES.i64 + WIRE_BYTES.nullableStringMin;

export function encodeOffsetFetchRequest(request: OffsetFetchRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.string(request.group);
    writer.array(request.partitions, (w, partition) => {
      w.string(partition.topic);
      w.i32(partition.partition);
    });
  });
}

export function decodeOffsetFetchRequest(body: Uint8Array): OffsetFetchRequest {
  return decodeBody(body, 'OffsetFetch request', (reader) => ({
    group: reader.string('group'),
    partitions: reader.array('partitions', OFFSET_FETCH_PARTITION_BYTES_MIN, (r) => ({
      topic: r.string('topic'),
      partition: r.i32('partition'),
    })),
  }));
}

export function encodeOffsetFetchResponse(response: OrHeaderOnly<OffsetFetchResponse>): Uint8Array {
  return encodeResponse<OffsetFetchResponse>(response, (writer, full) => writer.array(full.results, writeOffsetFetchResult));
}

export function decodeOffsetFetchResponse(body: Uint8Array): OrHeaderOnly<OffsetFetchResponse> {
  return decodeResponse(body, 'OffsetFetch response', (reader, header) => ({
    headerOnly: false,
    ...header,
    results: reader.array('results', OFFSET_FETCH_RESULT_BYTES_MIN, readOffsetFetchResult),
  }));
}

function writeOffsetFetchResult(writer: ByteWriter, result: OffsetFetchResult): void {
  writer.string(result.topic);
  writer.i32(result.partition);
  writer.i16(result.errorCode);
  writer.bool(result.found);
  writer.i64(result.offset);
  writer.nullableString(result.metadata);
}

function readOffsetFetchResult(reader: ByteReader): OffsetFetchResult {
  return {
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    errorCode: reader.i16('errorCode'),
    found: reader.bool('found'),
    offset: reader.i64('offset'),
    metadata: reader.nullableString('metadata'),
  };
}
