import { describe, expect, it } from 'vitest';
import {
  ApiKey, API_VERSION, decodeFetchResponse, decodeFrame, decodeProduceRequest, decodeRequest,
  decodeSubscribePush, encodeErrorResponse, encodeFrame, encodeHandshakeResponse, encodeProduceRequest,
  encodeUnsubscribeResponse, decodeUnsubscribeResponse, FrameKind, REQUEST_DECODERS, REQUEST_ENCODERS,
  RESPONSE_DECODERS, RESPONSE_ENCODERS, STRING_BYTES_MAX, truncateUtf8, type ApiKey as ApiKeyType,
} from '../../../src/protocol/index.js';
import { decodeBatchHeader, decodeRecords } from '../../../src/record/index.js';
import { CODECS, LONGEST_ASCII, MULTIBYTE, TWO_BATCHES } from './samples.js';

const ALL_API_KEYS = Object.values(ApiKey);
const utf8 = new TextEncoder();

describe('every body round-trips', () => {
  for (const codec of CODECS) {
    it(`${codec.name}: decode(encode(x)) equals x, and re-encoding gives the same bytes`, () => {
      expect(codec.samples.length).toBeGreaterThan(0);
      for (const [index, sample] of codec.samples.entries()) {
        const body = codec.encode(sample);
        const decoded = codec.decode(body);
        expect(decoded, `${codec.name} sample ${index}`).toEqual(sample);
        expect(codec.encode(decoded), `${codec.name} sample ${index} re-encoded`).toEqual(body);
      }
    });
  }

  it('covers a request and a response codec for every apiKey, and the Subscribe push', () => {
    for (const apiKey of ALL_API_KEYS) {
      expect(CODECS.filter((codec) => codec.apiKey === apiKey).map((codec) => codec.direction).sort()).toEqual(
        apiKey === ApiKey.Subscribe ? ['push', 'request', 'response'] : ['request', 'response'],
      );
    }
  });
});

describe('record bytes', () => {
  it('carries RecordBatch v2 bytes through Produce untouched, as a view into the body (no copy)', () => {
    const body = encodeProduceRequest({ acks: 1, timeoutMs: 1000, topics: [{ name: 'orders', partitions: [{ partition: 0, records: TWO_BATCHES }] }] });
    const records = decodeProduceRequest(body).topics[0]!.partitions[0]!.records;
    expect(records).toEqual(TWO_BATCHES);
    expect(records.buffer).toBe(body.buffer);
    const first = decodeBatchHeader(records);
    expect(first.recordCount).toBe(2);
    expect(decodeRecords(records.subarray(0, first.batchLength + 12)).map((record) => record.value)).toEqual([
      utf8.encode('v1'), utf8.encode('€uro'),
    ]);
  });

  it('decodes a body that is a view into a larger frame, at a non-zero byteOffset', () => {
    const body = encodeProduceRequest({ acks: 1, timeoutMs: 1000, topics: [{ name: MULTIBYTE, partitions: [{ partition: 3, records: TWO_BATCHES }] }] });
    const frame = encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Produce, apiVersion: 1, correlationId: 9 }, body);
    const decoded = decodeFrame(frame);
    expect(decoded.body.byteOffset).toBe(8);
    expect(decodeProduceRequest(decoded.body).topics[0]!.name).toBe(MULTIBYTE);
  });

  it('frames an encoded body in the room left before it, without a copy, once', () => {
    const header = { kind: FrameKind.push, apiKey: ApiKey.Subscribe, apiVersion: 2, correlationId: 7 } as const;
    const body = encodeProduceRequest({ acks: 1, timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partition: 0, records: TWO_BATCHES }] }] });
    const bodyCopy = body.slice();
    const first = encodeFrame(header, body);
    expect(first.buffer).toBe(body.buffer);
    expect(decodeFrame(first).header).toEqual(header);
    expect(decodeFrame(first).body).toEqual(bodyCopy);
    // A second frame of the same body must not rewrite the first one's header: it is a copy.
    const second = encodeFrame({ ...header, correlationId: 8 }, body);
    expect(second.buffer).not.toBe(body.buffer);
    expect(decodeFrame(first).header.correlationId).toBe(7);
    expect(decodeFrame(second).header.correlationId).toBe(8);
    expect(decodeFrame(second).body).toEqual(bodyCopy);
    // A body that did not come from the encoder (no room of ours before it) is copied too.
    const foreign = new Uint8Array(16 + bodyCopy.length);
    foreign.set(bodyCopy, 8);
    const framedForeign = encodeFrame(header, foreign.subarray(8, 8 + bodyCopy.length));
    expect(framedForeign.buffer).not.toBe(foreign.buffer);
    expect(foreign.subarray(0, 8)).toEqual(new Uint8Array(8));
    expect(decodeFrame(framedForeign).body).toEqual(bodyCopy);
  });

  it('returns the push and fetch records as views of the body', () => {
    const push = decodeSubscribePush(CODECS.find((codec) => codec.name === 'Subscribe push')!.encode(
      { errorCode: 0, highWatermark: 3, nextOffset: 3, records: TWO_BATCHES },
    ));
    expect(push.records).toEqual(TWO_BATCHES);
    const fetchCodec = CODECS.find((codec) => codec.name === 'Fetch response')!;
    const body = fetchCodec.encode({ headerOnly: false, errorCode: 0, errorMessage: null, partitions: [
      { topic: 't', partition: 0, errorCode: 0, highWatermark: 3, logStartOffset: 0, records: TWO_BATCHES },
    ] });
    const result = decodeFetchResponse(body);
    expect(result.headerOnly).toBe(false);
    if (!result.headerOnly) expect(result.partitions[0]!.records.buffer).toBe(body.buffer);
  });
});

describe('header-only responses', () => {
  it('every response decoder reads an encodeErrorResponse frame as header-only, with its error', () => {
    for (const apiKey of ALL_API_KEYS) {
      const frame = encodeErrorResponse(apiKey, 77, 'INVALID_REQUEST', `apiKey ${apiKey} is planned`);
      const { header, body } = decodeFrame(frame);
      expect(header).toEqual({ kind: FrameKind.response, apiKey, apiVersion: API_VERSION, correlationId: 77 });
      const response = RESPONSE_DECODERS[apiKey](body);
      expect(response, `apiKey ${apiKey}`).toMatchObject({ errorCode: 42, errorMessage: `apiKey ${apiKey} is planned` });
      if (apiKey !== ApiKey.Unsubscribe) expect(response).toMatchObject({ headerOnly: true });
    }
  });

  it('answers an unknown apiKey with its own apiKey and correlationId echoed', () => {
    const frame = encodeErrorResponse(200, 0xffff_ffff, 'INVALID_REQUEST', null);
    expect(Array.from(frame)).toEqual([2, 200, 0, API_VERSION, 0xff, 0xff, 0xff, 0xff, 0, 42, 0xff, 0xff]);
  });

  it('refuses a header-only body whose errorCode is 0: success must carry every field', () => {
    const successHeaderOnly = new Uint8Array([0, 0, 0xff, 0xff]);
    expect(() => RESPONSE_DECODERS[ApiKey.Handshake](successHeaderOnly)).toThrow(/Handshake response: protocolVersion \(u16\) at offset 4 needs 2 bytes but 0 are left/);
    expect(decodeUnsubscribeResponse(successHeaderOnly)).toEqual({ errorCode: 0, errorMessage: null });
  });

  it('will not encode a header-only success (a bug in the caller)', () => {
    expect(() => encodeHandshakeResponse({ headerOnly: true, errorCode: 0, errorMessage: null })).toThrow(/assertion failed/);
  });

  it('cuts an error message longer than stringBytesMax at a character boundary', () => {
    const message = `${'€'.repeat(10_922)}🚀 and more`;
    const body = encodeUnsubscribeResponse({ errorCode: 42, errorMessage: message });
    const decoded = decodeUnsubscribeResponse(body);
    expect(decoded.errorMessage).toBe('€'.repeat(10_922));
    expect(utf8.encode(decoded.errorMessage!).length).toBe(32_766);
    expect(truncateUtf8(LONGEST_ASCII + 'x', STRING_BYTES_MAX)).toBe(LONGEST_ASCII);
    expect(truncateUtf8('a🚀', 4)).toBe('a');
    expect(truncateUtf8('a🚀', 5)).toBe('a🚀');
    const frame = encodeErrorResponse(ApiKey.Metadata, 1, 'INVALID_REQUEST', 'x'.repeat(100_000));
    expect(decodeUnsubscribeResponse(decodeFrame(frame).body).errorMessage).toBe('x'.repeat(STRING_BYTES_MAX));
  });
});

describe('dispatch tables', () => {
  it('hold a decoder and an encoder for every apiKey, and nothing else', () => {
    const keys = ALL_API_KEYS.map(String).sort();
    for (const table of [REQUEST_DECODERS, REQUEST_ENCODERS, RESPONSE_DECODERS, RESPONSE_ENCODERS]) {
      expect(Object.keys(table).sort()).toEqual(keys);
      expect(Object.isFrozen(table)).toBe(true);
    }
  });

  it('route each apiKey to the codec of that API', () => {
    for (const codec of CODECS) {
      if (codec.direction === 'push') continue;
      const apiKey = codec.apiKey as ApiKeyType;
      const sample = codec.samples[0];
      const encoders = codec.direction === 'request' ? REQUEST_ENCODERS : RESPONSE_ENCODERS;
      const decoders = codec.direction === 'request' ? REQUEST_DECODERS : RESPONSE_DECODERS;
      const body = (encoders[apiKey] as (value: unknown) => Uint8Array)(sample);
      expect(body).toEqual(codec.encode(sample));
      expect(decoders[apiKey](body)).toEqual(sample);
    }
  });

  it('tags a decoded request with its apiKey so a switch narrows it', () => {
    const decoded = decodeRequest(ApiKey.Credit, REQUEST_ENCODERS[ApiKey.Credit]({ subscriptionId: 5, creditBytes: 1024 }));
    expect(decoded.apiKey).toBe(ApiKey.Credit);
    if (decoded.apiKey === ApiKey.Credit) expect(decoded.request.creditBytes).toBe(1024);
  });
});
