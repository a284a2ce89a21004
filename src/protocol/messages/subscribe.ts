import { decodeBody } from '../byte-reader.js';
import { encodeBody } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 6 Subscribe and its push (docs/protocol.md), apiVersion 2 (layout unchanged since 1):
 *
 *   Subscribe request  = topic string | partition i32 | offset i64 | creditBytes u32
 *   Subscribe response = responseHeader | subscriptionId u32 | highWatermark i64
 *   push (kind 3, apiKey 6, correlationId = subscriptionId)
 *                      = errorCode i16 | highWatermark i64 | nextOffset i64 | records bytes
 *
 * The broker pushes batches from `offset` on, never more bytes than the credit granted; each
 * push spends its `records` length. A push with a non-zero errorCode ends the subscription.
 * A push body has no responseHeader: its errorCode is its first field.
 */

export interface SubscribeRequest {
  readonly topic: string;
  readonly partition: number;
  /** First offset to push. */
  readonly offset: number;
  /** Initial credit; the broker clamps it to creditBytesMax. */
  readonly creditBytes: number;
}

export interface SubscribeResponse extends FullResponse {
  /** Carried as the correlationId of every push of this subscription. */
  readonly subscriptionId: number;
  readonly highWatermark: number;
}

export interface SubscribePush {
  readonly errorCode: number;
  readonly highWatermark: number;
  /** The offset the next push starts from. */
  readonly nextOffset: number;
  /** Whole RecordBatch v2 batches, back to back (a view into the body when decoded). */
  readonly records: Uint8Array;
}

/** Room for the push's fixed fields, so its buffer is allocated once. */
const PUSH_FIXED_BYTES = WIRE_BYTES.i16 + 2 * WIRE_BYTES.i64 + WIRE_BYTES.bytesMin;

export function encodeSubscribeRequest(request: SubscribeRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.string(request.topic);
    writer.i32(request.partition);
    writer.i64(request.offset);
    writer.u32(request.creditBytes);
  });
}

export function decodeSubscribeRequest(body: Uint8Array): SubscribeRequest {
  return decodeBody(body, 'Subscribe request', (reader) => ({
    topic: reader.string('topic'),
    partition: reader.i32('partition'),
    offset: reader.i64('offset'),
    creditBytes: reader.u32('creditBytes'),
  }));
}

export function encodeSubscribeResponse(response: OrHeaderOnly<SubscribeResponse>): Uint8Array {
  return encodeResponse<SubscribeResponse>(response, (writer, full) => {
    writer.u32(full.subscriptionId);
    writer.i64(full.highWatermark);
  });
}

export function decodeSubscribeResponse(body: Uint8Array): OrHeaderOnly<SubscribeResponse> {
  return decodeResponse(body, 'Subscribe response', (reader, header) => ({
    headerOnly: false,
    ...header,
    subscriptionId: reader.u32('subscriptionId'),
    highWatermark: reader.i64('highWatermark'),
  }));
}

export function encodeSubscribePush(push: SubscribePush): Uint8Array {
  return encodeBody((writer) => {
    writer.i16(push.errorCode);
    writer.i64(push.highWatermark);
    writer.i64(push.nextOffset);
    writer.bytes(push.records);
  }, PUSH_FIXED_BYTES + push.records.length);
}

export function decodeSubscribePush(body: Uint8Array): SubscribePush {
  return decodeBody(body, 'Subscribe push', (reader) => ({
    errorCode: reader.i16('errorCode'),
    highWatermark: reader.i64('highWatermark'),
    nextOffset: reader.i64('nextOffset'),
    records: reader.bytes('records'),
  }));
}
