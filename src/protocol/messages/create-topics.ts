import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';
import { readTopicResult, TOPIC_RESULT_BYTES_MIN, writeTopicResult, type TopicResult } from './topic-result.js';

/**
 * 2 CreateTopics (docs/protocol.md), apiVersion 2:
 *
 *   request  = topics array<newTopic>
 *   newTopic = name string | partitionCount i32 | replicationFactor i16 | minInsyncReplicas i16
 *   response = responseHeader | results array<topicResult>
 *   topicResult = name string | errorCode i16 | errorMessage nullableString
 *
 * Names, partition counts, replication factors and configs are judged by the broker, not here.
 */

/** The `minInsyncReplicas` that leaves the choice to the broker (its default). */
export const DEFAULT_MIN_INSYNC_REPLICAS = -1;

export interface NewTopic {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /**
   * acks=all needs at least this many in-sync replicas. Absent, or -1 (what an absent field
   * encodes as): the broker's default. Always present when decoded.
   */
  readonly minInsyncReplicas?: number;
}

export interface CreateTopicsRequest {
  readonly topics: readonly NewTopic[];
}

export interface CreateTopicsResponse extends FullResponse {
  readonly results: readonly TopicResult[];
}

const NEW_TOPIC_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i32 + WIRE_BYTES.i16 + WIRE_BYTES.i16;

export function encodeCreateTopicsRequest(request: CreateTopicsRequest): Uint8Array {
  return encodeBody((writer) => writer.array(request.topics, writeNewTopic));
}

export function decodeCreateTopicsRequest(body: Uint8Array): CreateTopicsRequest {
  return decodeBody(body, 'CreateTopics request', (reader) => ({
    topics: reader.array('topics', NEW_TOPIC_BYTES_MIN, readNewTopic),
  }));
}

export function encodeCreateTopicsResponse(response: OrHeaderOnly<CreateTopicsResponse>): Uint8Array {
  return encodeResponse<CreateTopicsResponse>(response, (writer, full) => writer.array(full.results, writeTopicResult));
}

export function decodeCreateTopicsResponse(body: Uint8Array): OrHeaderOnly<CreateTopicsResponse> {
  return decodeResponse(body, 'CreateTopics response', (reader, header) => ({
    headerOnly: false,
    ...header,
    results: reader.array('results', TOPIC_RESULT_BYTES_MIN, readTopicResult),
  }));
}

function writeNewTopic(writer: ByteWriter, topic: NewTopic): void {
  writer.string(topic.name);
  writer.i32(topic.partitionCount);
  writer.i16(topic.replicationFactor);
  writer.i16(topic.minInsyncReplicas ?? DEFAULT_MIN_INSYNC_REPLICAS);
}

function readNewTopic(reader: ByteReader): NewTopic {
  return {
    name: reader.string('name'),
    partitionCount: reader.i32('partitionCount'),
    replicationFactor: reader.i16('replicationFactor'),
    minInsyncReplicas: reader.i16('minInsyncReplicas'),
  };
}
