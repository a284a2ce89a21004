import { decodeBody } from '../byte-reader.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 10 InitProducerId (docs/protocol.md: *planned*, no body layout given there), apiVersion 2 (layout unchanged since 1).
 * The layout this codec defines, the smallest Kafka-style one for an idempotent producer
 * without transactions:
 *
 *   request  = (empty body)
 *   response = responseHeader | producerId i64 | producerEpoch i16
 *
 * A broker that does not serve it yet answers INVALID_REQUEST with a header-only response.
 */

/** The request has no fields. */
export type InitProducerIdRequest = Readonly<Record<string, never>>;

export interface InitProducerIdResponse extends FullResponse {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export function encodeInitProducerIdRequest(_request: InitProducerIdRequest = {}): Uint8Array {
  return new Uint8Array(0);
}

export function decodeInitProducerIdRequest(body: Uint8Array): InitProducerIdRequest {
  return decodeBody(body, 'InitProducerId request', () => ({}));
}

export function encodeInitProducerIdResponse(response: OrHeaderOnly<InitProducerIdResponse>): Uint8Array {
  return encodeResponse<InitProducerIdResponse>(response, (writer, full) => {
    writer.i64(full.producerId);
    writer.i16(full.producerEpoch);
  });
}

export function decodeInitProducerIdResponse(body: Uint8Array): OrHeaderOnly<InitProducerIdResponse> {
  return decodeResponse(body, 'InitProducerId response', (reader, header) => ({
    headerOnly: false,
    ...header,
    producerId: reader.i64('producerId'),
    producerEpoch: reader.i16('producerEpoch'),
  }));
}
