import { assert } from '../../errors/assert.js';
import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { STRING_BYTES_MAX } from '../wire-types.js';

/**
 * Every response body starts with the same two fields (docs/protocol.md, "Frame"):
 *
 *   responseHeader = errorCode i16 | errorMessage nullableString
 *
 * `errorCode` is 0 for success or a code of src/errors/error-codes.ts. A response may also be
 * the header alone, with a non-zero errorCode: that is how a broker answers a request it could
 * not decode (INVALID_REQUEST), does not serve, or whose version it does not speak. Decoders
 * return such a body as a HeaderOnlyResponse, so a client reads the outcome of any response.
 */

export interface ResponseHeader {
  readonly errorCode: number;
  /** Human-readable detail; longer than stringBytesMax is cut at a character boundary when encoded. */
  readonly errorMessage: string | null;
}

/** A response body that ends after its header; errorCode is never 0. */
export interface HeaderOnlyResponse extends ResponseHeader {
  readonly headerOnly: true;
}

/** A response with every field of its API's layout. */
export interface FullResponse extends ResponseHeader {
  readonly headerOnly: false;
}

/** Both forms of a response, told apart by `headerOnly`. */
export type OrHeaderOnly<T extends FullResponse> = T | HeaderOnlyResponse;

export const RESPONSE_HEADER_BYTES_MIN = 4;

export function writeResponseHeader(writer: ByteWriter, header: ResponseHeader): void {
  writer.i16(header.errorCode);
  writer.nullableString(header.errorMessage === null ? null : truncateUtf8(header.errorMessage, STRING_BYTES_MAX));
}

export function readResponseHeader(reader: ByteReader): ResponseHeader {
  return { errorCode: reader.i16('errorCode'), errorMessage: reader.nullableString('errorMessage') };
}

/** Encodes a response of either form; `writeRest` writes the fields after the header. */
export function encodeResponse<T extends FullResponse>(
  response: OrHeaderOnly<T>, writeRest: (writer: ByteWriter, response: T) => void, capacityBytesHint?: number,
): Uint8Array {
  return encodeBody((writer) => {
    writeResponseHeader(writer, response);
    if (response.headerOnly) {
      assert(response.errorCode !== 0, 'a header-only response carries an error');
      return;
    }
    writeRest(writer, response);
  }, capacityBytesHint);
}

/**
 * Decodes a response of either form: a body that ends after a non-zero errorCode is header-only;
 * any other body must hold every field that `readRest` reads, and nothing after them.
 */
export function decodeResponse<T extends FullResponse>(
  body: Uint8Array, context: string, readRest: (reader: ByteReader, header: ResponseHeader) => T,
): OrHeaderOnly<T> {
  return decodeBody(body, context, (reader): OrHeaderOnly<T> => {
    const header = readResponseHeader(reader);
    if (header.errorCode !== 0 && reader.remainingBytes === 0) return { headerOnly: true, ...header };
    return readRest(reader, header);
  });
}

/**
 * `text` cut to at most `bytesMax` UTF-8 bytes at a character boundary (never inside a surrogate
 * pair). For error messages, which are for people and may quote client input.
 */
export function truncateUtf8(text: string, bytesMax: number): string {
  // Every UTF-16 code unit takes at least 1 UTF-8 byte, at most 3.
  if (text.length * 3 <= bytesMax) return text;
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const unit = text.charCodeAt(end);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length
      && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    const unitBytes = isPair ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
    if (bytes + unitBytes > bytesMax) break;
    bytes += unitBytes;
    end += isPair ? 2 : 1;
  }
  return text.slice(0, end);
}
