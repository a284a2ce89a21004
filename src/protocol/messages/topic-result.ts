import type { ByteReader } from '../byte-reader.js';
import type { ByteWriter } from '../byte-writer.js';
import { STRING_BYTES_MAX, WIRE_BYTES } from '../wire-types.js';
import { truncateUtf8 } from './response-header.js';

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
