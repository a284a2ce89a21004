import { decodeBody } from '../byte-reader.js';
import { encodeBody } from '../byte-writer.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 7 Credit (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   Credit request     = subscriptionId u32 | creditBytes u32
 *   Credit response    = responseHeader | creditBytes u32        (credit now available)
 *
 * Credit is capped at creditBytesMax; the broker clamps a grant beyond it.
 */

export interface CreditRequest {
  readonly subscriptionId: number;
  /** Bytes added to the subscription's credit. */
  readonly creditBytes: number;
}

export interface CreditResponse extends FullResponse {
  /** Credit now available to the subscription, after the grant and the clamp. */
  readonly creditBytes: number;
}

export function encodeCreditRequest(request: CreditRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.u32(request.subscriptionId);
    writer.u32(request.creditBytes);
  });
}

export function decodeCreditRequest(body: Uint8Array): CreditRequest {
  return decodeBody(body, 'Credit request', (reader) => ({
    subscriptionId: reader.u32('subscriptionId'),
    creditBytes: reader.u32('creditBytes'),
  }));
}

export function encodeCreditResponse(response: OrHeaderOnly<CreditResponse>): Uint8Array {
  return encodeResponse<CreditResponse>(response, (writer, full) => writer.u32(full.creditBytes));
}

export function decodeCreditResponse(body: Uint8Array): OrHeaderOnly<CreditResponse> {
  return decodeResponse(body, 'Credit response', (reader, header) => ({
    headerOnly: false,
    ...header,
    creditBytes: reader.u32('creditBytes'),
  }));
}
