import { decodeBody } from '../byte-reader.js';
import { encodeBody } from '../byte-writer.js';
import { readResponseHeader, writeResponseHeader, type ResponseHeader } from './response-header.js';

/**
 * 8 Unsubscribe (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   Unsubscribe request  = subscriptionId u32
 *   Unsubscribe response = responseHeader
 *
 * The response is the header alone whatever its errorCode, so it has no header-only form.
 */

export interface UnsubscribeRequest {
  readonly subscriptionId: number;
}

export type UnsubscribeResponse = ResponseHeader;

export function encodeUnsubscribeRequest(request: UnsubscribeRequest): Uint8Array {
  return encodeBody((writer) => writer.u32(request.subscriptionId));
}

export function decodeUnsubscribeRequest(body: Uint8Array): UnsubscribeRequest {
  return decodeBody(body, 'Unsubscribe request', (reader) => ({ subscriptionId: reader.u32('subscriptionId') }));
}

export function encodeUnsubscribeResponse(response: UnsubscribeResponse): Uint8Array {
  return encodeBody((writer) => writeResponseHeader(writer, response));
}

export function decodeUnsubscribeResponse(body: Uint8Array): UnsubscribeResponse {
  return decodeBody(body, 'Unsubscribe response', readResponseHeader);
}
