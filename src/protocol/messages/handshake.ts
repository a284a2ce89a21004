import { decodeBody } from '../byte-reader.js';
import { encodeBody } from '../byte-writer.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 0 Handshake (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   request  = protocolVersion u16 | clientId string
 *   response = responseHeader | protocolVersion u16 | brokerId i32 | maxFrameBytes u32
 *              | maxInFlightRequestsPerConnection u32 | creditBytesMax u32
 *
 * A broker that does not speak protocolVersion answers UNSUPPORTED_VERSION and closes with 4001.
 */

export interface HandshakeRequest {
  readonly protocolVersion: number;
  readonly clientId: string;
}

export interface HandshakeResponse extends FullResponse {
  /** The protocol version the broker speaks. */
  readonly protocolVersion: number;
  readonly brokerId: number;
  readonly maxFrameBytes: number;
  readonly maxInFlightRequestsPerConnection: number;
  readonly creditBytesMax: number;
}

export function encodeHandshakeRequest(request: HandshakeRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.u16(request.protocolVersion);
    writer.string(request.clientId);
  });
}

export function decodeHandshakeRequest(body: Uint8Array): HandshakeRequest {
  return decodeBody(body, 'Handshake request', (reader) => ({
    protocolVersion: reader.u16('protocolVersion'),
    clientId: reader.string('clientId'),
  }));
}

export function encodeHandshakeResponse(response: OrHeaderOnly<HandshakeResponse>): Uint8Array {
  return encodeResponse<HandshakeResponse>(response, (writer, full) => {
    writer.u16(full.protocolVersion);
    writer.i32(full.brokerId);
    writer.u32(full.maxFrameBytes);
    writer.u32(full.maxInFlightRequestsPerConnection);
    writer.u32(full.creditBytesMax);
  });
}

export function decodeHandshakeResponse(body: Uint8Array): OrHeaderOnly<HandshakeResponse> {
  return decodeResponse(body, 'Handshake response', (reader, header) => ({
    headerOnly: false,
    ...header,
    protocolVersion: reader.u16('protocolVersion'),
    brokerId: reader.i32('brokerId'),
    maxFrameBytes: reader.u32('maxFrameBytes'),
    maxInFlightRequestsPerConnection: reader.u32('maxInFlightRequestsPerConnection'),
    creditBytesMax: reader.u32('creditBytesMax'),
  }));
}
