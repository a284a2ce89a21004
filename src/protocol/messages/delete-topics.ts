import { decodeBody } from '../byte-reader.js';
import { encodeBody } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';
import { readTopicResult, TOPIC_RESULT_BYTES_MIN, writeTopicResult, type TopicResult } from './topic-result.js';

/**
 * 3 DeleteTopics (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   request  = names array<string>
 *   response = responseHeader | results array<topicResult>
 *   topicResult = name string | errorCode i16 | errorMessage nullableString
 */

export interface DeleteTopicsRequest {
  readonly names: readonly string[];
}

export interface DeleteTopicsResponse extends FullResponse {
  readonly results: readonly TopicResult[];
}

export function encodeDeleteTopicsRequest(request: DeleteTopicsRequest): Uint8Array {
  return encodeBody((writer) => writer.array(request.names, (w, name) => w.string(name)));
}

export function decodeDeleteTopicsRequest(body: Uint8Array): DeleteTopicsRequest {
  return decodeBody(body, 'DeleteTopics request', (reader) => ({
    names: reader.array('names', WIRE_BYTES.stringMin, (r) => r.string('')),
  }));
}

export function encodeDeleteTopicsResponse(response: OrHeaderOnly<DeleteTopicsResponse>): Uint8Array {
  return encodeResponse<DeleteTopicsResponse>(response, (writer, full) => writer.array(full.results, writeTopicResult));
}

export function decodeDeleteTopicsResponse(body: Uint8Array): OrHeaderOnly<DeleteTopicsResponse> {
  return decodeResponse(body, 'DeleteTopics response', (reader, header) => ({
    headerOnly: false,
    ...header,
    results: reader.array('results', TOPIC_RESULT_BYTES_MIN, readTopicResult),
  }));
}
