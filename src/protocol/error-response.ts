import { ERROR_CODES, type ErrorName } from '../errors/error-codes.js';
import { API_VERSION } from './api-keys.js';
import { encodeBody } from './byte-writer.js';
import { encodeFrame, FrameKind } from './frame.js';
import { writeResponseHeader } from './messages/response-header.js';

/**
 * A response frame that holds only the response header (docs/protocol.md, "Frame"):
 *
 *   frame = kind u8 (2) | apiKey u8 | apiVersion u16 (1) | correlationId u32
 *           | errorCode i16 | errorMessage nullableString
 *
 * For requests a broker cannot answer otherwise: an unknown apiKey, a malformed body
 * (INVALID_REQUEST), a planned API, an apiVersion it does not speak (UNSUPPORTED_VERSION). Every
 * response decoder reads it back as a HeaderOnlyResponse. A message longer than stringBytesMax
 * is cut at a character boundary.
 */
export function encodeErrorResponse(
  apiKey: number, correlationId: number, errorName: ErrorName, message: string | null,
): Uint8Array {
  // The error table has no code 0, so this is never mistaken for success (the type says so).
  const errorCode = ERROR_CODES[errorName].code;
  const body = encodeBody((writer) => writeResponseHeader(writer, { errorCode, errorMessage: message }));
  return encodeFrame({ kind: FrameKind.response, apiKey, apiVersion: API_VERSION, correlationId }, body);
}
