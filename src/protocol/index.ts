/**
 * The Sluice wire protocol, version 2 (docs/protocol.md): frames, and the body of every request,
 * response and push. Pure: Uint8Array, DataView, TextEncoder/TextDecoder only, so it runs in
 * browsers as well as in the broker.
 *
 * Decoding turns bytes into fields and nothing more; judging the fields (topic names, acks,
 * offsets) is the broker's job. A malformed body throws BodyDecodeError, a SluiceError named
 * INVALID_REQUEST; a frame whose header cannot be read throws FrameHeaderError (close 1002).
 */

export { ApiKey, API_NAMES, API_VERSION, PLANNED_API_KEYS, PROTOCOL_VERSION, isApiKey, type ApiName } from './api-keys.js';
export { ByteReader, decodeBody } from './byte-reader.js';
export { ByteWriter, encodeBody } from './byte-writer.js';
export { CloseCode } from './close-codes.js';
export { BodyDecodeError, FrameHeaderError, type FrameHeaderProblem } from './decode-error.js';
export {
  decodeRequest, REQUEST_DECODERS, REQUEST_ENCODERS, RESPONSE_DECODERS, RESPONSE_ENCODERS,
  type DecodedRequest, type RequestByApiKey, type RequestDecoders, type RequestEncoders, type ResponseByApiKey,
  type ResponseDecoders, type ResponseEncoders,
} from './dispatch.js';
export { encodeErrorResponse } from './error-response.js';
export {
  decodeFrame, decodeFrameHeader, encodeFrame, FRAME_HEADER_BYTES, FrameKind, isFrameKind, writeFrameHeader,
  type Frame, type FrameHeader,
} from './frame.js';
export { INT64_MAGNITUDE_MAX, NULL_STRING_LENGTH, STRING_BYTES_MAX, WIRE_BYTES } from './wire-types.js';

export * from './messages/create-topics.js';
export * from './messages/credit.js';
export * from './messages/delete-topics.js';
export * from './messages/fetch.js';
export * from './messages/handshake.js';
export * from './messages/init-producer-id.js';
export * from './messages/list-offsets.js';
export * from './messages/metadata.js';
export * from './messages/offset-commit.js';
export * from './messages/offset-fetch.js';
export * from './messages/offset-for-leader-epoch.js';
export * from './messages/produce.js';
export {
  decodeResponse, encodeResponse, readResponseHeader, RESPONSE_HEADER_BYTES_MIN, truncateUtf8, writeResponseHeader,
  type FullResponse, type HeaderOnlyResponse, type OrHeaderOnly, type ResponseHeader,
} from './messages/response-header.js';
export * from './messages/subscribe.js';
export { TOPIC_RESULT_BYTES_MIN, topicResultsFrameBytesMax, type TopicResult } from './messages/topic-result.js';
export * from './messages/unsubscribe.js';
