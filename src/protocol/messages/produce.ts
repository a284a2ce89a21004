import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 4 Produce (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   request  = acks i8 | timeoutMs i32 | topics array<produceTopic>
 *   produceTopic     = name string | partitions array<producePartition>
 *   producePartition = partition i32 | records bytes        (one or more RecordBatch v2, back to back)
 *   response = responseHeader | topics array<produceTopicResult>
 *   produceTopicResult     = name string | partitions array<producePartitionResult>
 *   producePartitionResult = partition i32 | errorCode i16 | baseOffset i64 | logStartOffset i64
 *
 * `records` is carried as opaque bytes (a view into the body when decoded): the broker checks
 * the batches, and `acks` (0, 1 or -1), itself. With acks 0 no response is sent at all.
 * `baseOffset` is -1 when `errorCode` is not 0.
 */

export interface ProducePartition {
  readonly partition: number;
  /** One or more RecordBatch v2, back to back. */
  readonly records: Uint8Array;
}

export interface ProduceTopic {
  readonly name: string;
  readonly partitions: readonly ProducePartition[];
}

export interface ProduceRequest {
  /** 0, 1 or -1 (all); checked by the broker. */
  readonly acks: number;
  readonly timeoutMs: number;
  readonly topics: readonly ProduceTopic[];
}

export interface ProducePartitionResult {
  readonly partition: number;
  readonly errorCode: number;
  /** First offset given to the partition's first batch; -1 when errorCode is not 0. */
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

export interface ProduceTopicResult {
  readonly name: string;
  readonly partitions: readonly ProducePartitionResult[];
}

export interface ProduceResponse extends FullResponse {
  readonly topics: readonly ProduceTopicResult[];
}

const PRODUCE_TOPIC_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.arrayMin;
const PRODUCE_PARTITION_BYTES_MIN = WIRE_BYTES.i32 + WIRE_BYTES.bytesMin;
const PRODUCE_TOPIC_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.arrayMin;
const PRODUCE_PARTITION_RESULT_BYTES_MIN = WIRE_BYTES.i32 + WIRE_BYTES.i16 + 2 * WIRE_BYTES.i64;
/** Room for the fixed fields around the records, so a request's buffer is allocated once. */
const PRODUCE_REQUEST_OVERHEAD_BYTES = 64;

export function encodeProduceRequest(request: ProduceRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.i8(request.acks);
    writer.i32(request.timeoutMs);
    writer.array(request.topics, writeProduceTopic);
  }, produceRequestBytesHint(request));
}

export function decodeProduceRequest(body: Uint8Array): ProduceRequest {
  return decodeBody(body, 'Produce request', (reader) => ({
    acks: reader.i8('acks'),
    timeoutMs: reader.i32('timeoutMs'),
    topics: reader.array('topics', PRODUCE_TOPIC_BYTES_MIN, readProduceTopic),
  }));
}

export function encodeProduceResponse(response: OrHeaderOnly<ProduceResponse>): Uint8Array {
  return encodeResponse<ProduceResponse>(response, (writer, full) => writer.array(full.topics, writeProduceTopicResult));
}

export function decodeProduceResponse(body: Uint8Array): OrHeaderOnly<ProduceResponse> {
  return decodeResponse(body, 'Produce response', (reader, header) => ({
    headerOnly: false,
    ...header,
    topics: reader.array('topics', PRODUCE_TOPIC_RESULT_BYTES_MIN, readProduceTopicResult),
  }));
}

function writeProduceTopic(writer: ByteWriter, topic: ProduceTopic): void {
  writer.string(topic.name);
  writer.array(topic.partitions, (w, partition) => {
    w.i32(partition.partition);
    w.bytes(partition.records);
  });
}

function readProduceTopic(reader: ByteReader): ProduceTopic {
  return {
    name: reader.string('name'),
    partitions: reader.array('partitions', PRODUCE_PARTITION_BYTES_MIN, (r) => ({
      partition: r.i32('partition'),
      records: r.bytes('records'),
    })),
  };
}

function writeProduceTopicResult(writer: ByteWriter, topic: ProduceTopicResult): void {
  writer.string(topic.name);
  writer.array(topic.partitions, (w, partition) => {
    w.i32(partition.partition);
    w.i16(partition.errorCode);
    w.i64(partition.baseOffset);
    w.i64(partition.logStartOffset);
  });
}

function readProduceTopicResult(reader: ByteReader): ProduceTopicResult {
  return {
    name: reader.string('name'),
    partitions: reader.array('partitions', PRODUCE_PARTITION_RESULT_BYTES_MIN, (r) => ({
      partition: r.i32('partition'),
      errorCode: r.i16('errorCode'),
      baseOffset: r.i64('baseOffset'),
      logStartOffset: r.i64('logStartOffset'),
    })),
  };
}

/** Close to the encoded size: the records dominate, names count 3 bytes per UTF-16 unit at most. */
function produceRequestBytesHint(request: ProduceRequest): number {
  let bytes = PRODUCE_REQUEST_OVERHEAD_BYTES;
  for (const topic of request.topics) {
    bytes += PRODUCE_TOPIC_BYTES_MIN + topic.name.length * 3;
    for (const partition of topic.partitions) bytes += PRODUCE_PARTITION_BYTES_MIN + partition.records.length;
  }
  return bytes;
}
