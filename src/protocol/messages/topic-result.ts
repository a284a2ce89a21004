import type { ByteReader } from '../byte-reader.js';
import type { ByteWriter } from '../byte-writer.js';
import { STRING_BYTES_MAX, WIRE_BYTES } from '../wire-types.js';
import { FRAME_HEADER_BYTES } from '../frame.js';
import { RESPONSE_HEADER_BYTES_MIN, truncateUtf8 } from './response-header.js';

/**
 * The per-topic result shared by CreateTopics and DeleteTopics (docs/protocol.md):
 *
 *   topicResult = name string | errorCode i16 | errorMessage nullableString
 */

export interface TopicResult {
  readonly name: string;
  readonly errorCode: number;
  /** Human-readable detail; longer than stringBytesMax is cut at a character boundary when encoded. */
  readonly errorMessage: string | null;
}

export const TOPIC_RESULT_BYTES_MIN = WIRE_BYTES.stringMin + WIRE_BYTES.i16 + WIRE_BYTES.nullableStringMin;

export function writeTopicResult(writer: ByteWriter, result: TopicResult): void {
  writer.string(result.name);
  writer.i16(result.errorCode);
  writer.nullableString(result.errorMessage === null ? null : truncateUtf8(result.errorMessage, STRING_BYTES_MAX));
}

export function readTopicResult(reader: ByteReader): TopicResult {
  return { name: reader.string('name'), errorCode: reader.i16('errorCode'), errorMessage: reader.nullableString('errorMessage') };
}

/**
 * The most bytes a CreateTopics or DeleteTopics response frame with these results takes (error
 * messages count in full, up to the string limit), so a handler can tell before it acts whether
 * the answer fits in maxFrameBytes.
 */
export function topicResultsFrameBytesMax(results: readonly TopicResult[]): number {
  let bytes = FRAME_HEADER_BYTES + RESPONSE_HEADER_BYTES_MIN + WIRE_BYTES.i32;
  for (const result of results) {
    bytes += TOPIC_RESULT_BYTES_MIN + utf8Bytes(result.name);
    if (result.errorMessage !== null) bytes += Math.min(utf8Bytes(result.errorMessage), STRING_BYTES_MAX);
  }
  return bytes;
}

const utf8Encoder = new TextEncoder();

function utf8Bytes(text: string): number {
  return utf8Encoder.encode(text).length;
}
