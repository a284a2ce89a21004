import { assert } from '../errors/assert.js';
import { BODY_HEADROOM_BYTES, claimHeadroom } from './byte-writer.js';
import { FrameHeaderError } from './decode-error.js';

/**
 * One WebSocket binary message is exactly one frame (docs/protocol.md, "Frame"):
 *
 *   frame = kind u8 | apiKey u8 | apiVersion u16 | correlationId u32 | body
 *
 *   offset  size  field
 *   0       1     kind           1 request (client -> broker), 2 response (broker -> client),
 *                                3 push (broker -> client)
 *   1       1     apiKey         which request; a push carries the apiKey of the request that
 *                                set it up
 *   2       2     apiVersion     layout version of that API's body; 2 for every API in
 *                                protocol version 2
 *   4       4     correlationId  chosen by the client for a request and repeated in its
 *                                response; for a push, the subscription id
 *   8       ...   body
 *
 * A frame shorter than its header or of an unknown kind is a FrameHeaderError (close 1002).
 * The header does not judge apiKey or apiVersion: a request with an unknown apiKey still has a
 * correlation id to answer. The frame's size against `maxFrameBytes` is the transport's check,
 * made before the message is buffered.
 */

export const FRAME_HEADER_BYTES = 8;

export const FrameKind = {
  request: 1,
  response: 2,
  push: 3,
} as const;

export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface FrameHeader {
  readonly kind: FrameKind;
  readonly apiKey: number;
  readonly apiVersion: number;
  /** For a push: the subscription id. */
  readonly correlationId: number;
}

export interface Frame {
  readonly header: FrameHeader;
  /** A view into the frame (no copy). */
  readonly body: Uint8Array;
}

/**
 * The frame of `header` and `body`: written into the room encodeBody left before the body when
 * it can be (no copy; the frame then shares the body's memory), else a new array.
 */
export function encodeFrame(header: FrameHeader, body: Uint8Array): Uint8Array {
  const framed = FRAME_HEADER_BYTES === BODY_HEADROOM_BYTES ? claimHeadroom(body) : null;
  if (framed !== null) {
    writeFrameHeader(framed, header);
    return framed;
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  writeFrameHeader(frame, header);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes `header` into the first 8 bytes of `frame`. */
export function writeFrameHeader(frame: Uint8Array, header: FrameHeader): void {
  assert(frame.length >= FRAME_HEADER_BYTES, `frame of ${frame.length} bytes has room for its header`);
  assert(isFrameKind(header.kind), `frame kind ${header.kind}`);
  assert(Number.isInteger(header.apiKey) && header.apiKey >= 0 && header.apiKey <= 0xff, `apiKey ${header.apiKey}`);
  assert(Number.isInteger(header.apiVersion) && header.apiVersion >= 0 && header.apiVersion <= 0xffff, `apiVersion ${header.apiVersion}`);
  assert(Number.isInteger(header.correlationId) && header.correlationId >= 0 && header.correlationId <= 0xffff_ffff,
    `correlationId ${header.correlationId}`);
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  view.setUint8(0, header.kind);
  view.setUint8(1, header.apiKey);
  view.setUint16(2, header.apiVersion);
  view.setUint32(4, header.correlationId);
}

/** Reads the 8-byte header; a frame too short for it or of an unknown kind is a FrameHeaderError. */
export function decodeFrameHeader(frame: Uint8Array): FrameHeader {
  if (frame.length < FRAME_HEADER_BYTES) {
    throw new FrameHeaderError('tooShort',
      `frame of ${frame.length} byte${frame.length === 1 ? '' : 's'} is shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  const kind = view.getUint8(0);
  if (!isFrameKind(kind)) throw new FrameHeaderError('unknownKind', `frame kind ${kind} at offset 0 is not 1, 2 or 3`);
  return { kind, apiKey: view.getUint8(1), apiVersion: view.getUint16(2), correlationId: view.getUint32(4) };
}

/** Splits a frame into its header and a view of its body. */
export function decodeFrame(frame: Uint8Array): Frame {
  return { header: decodeFrameHeader(frame), body: frame.subarray(FRAME_HEADER_BYTES) };
}

export function isFrameKind(value: number): value is FrameKind {
  return value === FrameKind.request || value === FrameKind.response || value === FrameKind.push;
}
