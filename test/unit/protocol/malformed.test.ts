import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import {
  ApiKey, BodyDecodeError, ByteWriter, decodeCreateTopicsRequest, decodeCreateTopicsResponse,
  decodeDeleteTopicsRequest, decodeDeleteTopicsResponse, decodeFetchRequest, decodeFetchResponse, decodeFrameHeader,
  decodeHandshakeRequest, decodeInitProducerIdRequest, decodeListOffsetsRequest, decodeListOffsetsResponse,
  decodeMetadataRequest, decodeMetadataResponse, decodeOffsetCommitRequest, decodeOffsetCommitResponse,
  decodeOffsetFetchRequest, decodeOffsetFetchResponse, decodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochResponse,
  decodeProduceRequest, decodeProduceResponse, encodeOffsetForLeaderEpochResponse,
  decodeSubscribePush, decodeSubscribeRequest, encodeFetchResponse, encodeFrame, encodeHandshakeRequest,
  encodeMetadataResponse, encodeOffsetFetchResponse, encodeProduceRequest, encodeSubscribePush, FrameHeaderError,
  FrameKind, FRAME_HEADER_BYTES, REQUEST_DECODERS, RESPONSE_DECODERS, type ApiKey as ApiKeyType, isApiKey,
} from '../../../src/protocol/index.js';
import { CODECS, MULTIBYTE, TWO_BATCHES } from './samples.js';

/** What a decoder threw, or undefined when it decoded; anything but a BodyDecodeError fails the test. */
function decodeError(decode: () => unknown): BodyDecodeError | undefined {
  try {
    decode();
    return undefined;
  } catch (error) {
    if (error instanceof BodyDecodeError) {
      expect(error).toBeInstanceOf(SluiceError);
      expect(error.errorName).toBe('INVALID_REQUEST');
      return error;
    }
    throw error;
  }
}

function expectDecodeError(decode: () => unknown): BodyDecodeError {
  const error = decodeError(decode);
  expect(error, 'the body was accepted').toBeDefined();
  return error!;
}

function body(write: (writer: ByteWriter) => void): Uint8Array {
  const writer = new ByteWriter();
  write(writer);
  return writer.finish();
}

/** A success response header: errorCode 0, errorMessage null. */
function okHeader(writer: ByteWriter): void {
  writer.i16(0);
  writer.nullableString(null);
}

/** Zeros after a forged count, so that enclosing arrays' own size checks pass and the forged one is reached. */
function padding(writer: ByteWriter): void {
  for (let index = 0; index < 8; index++) writer.u32(0);
}

/** Decodes a whole frame the way a broker or client would: header first, then the body by kind and apiKey. */
function decodeAnyFrame(frame: Uint8Array): unknown {
  const header = decodeFrameHeader(frame);
  const bodyBytes = frame.subarray(FRAME_HEADER_BYTES);
  if (!isApiKey(header.apiKey)) throw new Error(`test frame has apiKey ${header.apiKey}`);
  if (header.kind === FrameKind.push) return decodeSubscribePush(bodyBytes);
  const decoders = header.kind === FrameKind.request ? REQUEST_DECODERS : RESPONSE_DECODERS;
  return (decoders[header.apiKey] as (bytes: Uint8Array) => unknown)(bodyBytes);
}

function frameOf(kind: FrameKind, apiKey: ApiKeyType, bodyBytes: Uint8Array): Uint8Array {
  return encodeFrame({ kind, apiKey, apiVersion: 2, correlationId: 0x0a0b0c0d }, bodyBytes);
}

const OK = { headerOnly: false, errorCode: 0, errorMessage: null } as const;

const TRUNCATION_FRAMES: readonly { readonly name: string; readonly frame: Uint8Array }[] = [
  { name: 'Handshake request', frame: frameOf(FrameKind.request, ApiKey.Handshake, encodeHandshakeRequest({ protocolVersion: 1, clientId: MULTIBYTE })) },
  {
    name: 'Produce request',
    frame: frameOf(FrameKind.request, ApiKey.Produce, encodeProduceRequest({
      acks: -1, timeoutMs: 30_000, topics: [
        { name: 'orders', partitions: [{ partition: 0, records: TWO_BATCHES }, { partition: 1, records: TWO_BATCHES.subarray(0, 70) }] },
        { name: MULTIBYTE, partitions: [{ partition: 2, records: new Uint8Array(0) }] },
      ],
    })),
  },
  {
    name: 'Metadata response',
    frame: frameOf(FrameKind.response, ApiKey.Metadata, encodeMetadataResponse({
      ...OK, brokers: [{ brokerId: 1, host: 'broker-1', port: 9092 }],
      topics: [{ errorCode: 0, name: 'orders', partitions: [{ errorCode: 0, partition: 0, leaderId: 1, leaderEpoch: 2, replicas: [1, 2], isr: [1] }] }],
    })),
  },
  {
    name: 'Fetch response',
    frame: frameOf(FrameKind.response, ApiKey.Fetch, encodeFetchResponse({
      ...OK, partitions: [{ topic: 'orders', partition: 0, errorCode: 0, highWatermark: 3, logStartOffset: 0, records: TWO_BATCHES }],
    })),
  },
  {
    name: 'OffsetFetch response',
    frame: frameOf(FrameKind.response, ApiKey.OffsetFetch, encodeOffsetFetchResponse({
      ...OK, results: [{ topic: 'orders', partition: 0, errorCode: 0, found: true, offset: 42, metadata: 'gen 3' }],
    })),
  },
  {
    name: 'OffsetForLeaderEpoch response',
    frame: frameOf(FrameKind.response, ApiKey.OffsetForLeaderEpoch, encodeOffsetForLeaderEpochResponse({
      ...OK, partitions: [{ topic: 'orders', partition: 0, errorCode: 0, leaderEpoch: 3, endOffset: 1200 }, { topic: MULTIBYTE, partition: 1, errorCode: 75, leaderEpoch: -1, endOffset: -1 }],
    })),
  },
  { name: 'Subscribe push', frame: frameOf(FrameKind.push, ApiKey.Subscribe, encodeSubscribePush({ errorCode: 0, highWatermark: 3, nextOffset: 3, records: TWO_BATCHES })) },
];

describe('a frame cut short at every byte position', () => {
  for (const { name, frame } of TRUNCATION_FRAMES) {
    it(`${name} (${frame.length} bytes): a FrameHeaderError below 8 bytes, else INVALID_REQUEST naming a field and its offset`, () => {
      expect(decodeAnyFrame(frame)).toBeDefined();
      for (let cut = 0; cut < frame.length; cut++) {
        const prefix = frame.subarray(0, cut);
        if (cut < FRAME_HEADER_BYTES) {
          expect(() => decodeAnyFrame(prefix), `cut ${cut}`).toThrow(FrameHeaderError);
          continue;
        }
        const error = expectDecodeError(() => decodeAnyFrame(prefix));
        expect(error.message, `cut ${cut}`).toMatch(new RegExp(`: ${name}: \\S+ .*at offset \\d+`));
        expect(error.field, `cut ${cut}`).not.toBe('');
        expect(error.offsetBytes, `cut ${cut}`).toBeLessThanOrEqual(cut - FRAME_HEADER_BYTES);
      }
    });
  }

  it('names the nested field that ran out: records, a count, a name, a fixed-size field', () => {
    const frame = TRUNCATION_FRAMES[1]!.frame;
    const bodyBytes = frame.subarray(FRAME_HEADER_BYTES);
    // acks 1 + timeoutMs 4 + count 4 + "orders" 8 + count 4 + partition 4 = 25: the records length.
    expect(expectDecodeError(() => decodeProduceRequest(bodyBytes.subarray(0, 100))).message).toBe(
      `The request is malformed or of an unknown type: Produce request: topics[0].partitions[0].records length ${TWO_BATCHES.length} at offset 25 exceeds the 71 bytes left`,
    );
    expect(expectDecodeError(() => decodeProduceRequest(bodyBytes.subarray(0, 12))).message).toMatch(
      /Produce request: topics count 2 at offset 5 needs at least 12 bytes \(6 per element\) but 3 are left; refused before allocating$/,
    );
    // A count is checked against the bytes left before its elements are read.
    expect(expectDecodeError(() => decodeProduceRequest(bodyBytes.subarray(0, 22))).message).toMatch(
      /topics\[0\]\.partitions count 2 at offset 17 needs at least 16 bytes \(8 per element\) but 1 are left/,
    );
    expect(expectDecodeError(() => decodeHandshakeRequest(Uint8Array.of(0))).message).toMatch(
      /Handshake request: protocolVersion \(u16\) at offset 0 needs 2 bytes but 1 are left$/,
    );
    const secondTopicAt = 25 + 4 + TWO_BATCHES.length + 4 + 4 + 70;
    expect(expectDecodeError(() => decodeProduceRequest(bodyBytes.subarray(0, secondTopicAt + 3))).message).toMatch(
      new RegExp(`topics\\[1\\]\\.name length ${new TextEncoder().encode(MULTIBYTE).length} at offset ${secondTopicAt} exceeds the 1 bytes left`),
    );
  });
});

/** A body whose count of `field` is 0xFFFFFFFF, with little behind it. */
interface HugeCountCase {
  readonly name: string;
  readonly field: string;
  readonly decode: (bytes: Uint8Array) => unknown;
  readonly body: Uint8Array;
}

const HUGE = 0xffff_ffff;
const HUGE_COUNT_CASES: readonly HugeCountCase[] = [
  { name: 'Metadata request', field: 'topics', decode: decodeMetadataRequest, body: body((w) => { w.bool(false); w.u32(HUGE); }) },
  { name: 'Metadata response', field: 'brokers', decode: decodeMetadataResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
  { name: 'Metadata response', field: 'topics', decode: decodeMetadataResponse, body: body((w) => { okHeader(w); w.u32(0); w.i32(-1); w.u32(HUGE); }) },
  {
    name: 'Metadata response', field: 'topics[0].partitions', decode: decodeMetadataResponse,
    body: body((w) => { okHeader(w); w.u32(0); w.i32(-1); w.u32(1); w.i16(0); w.string('t'); w.u32(HUGE); padding(w); }),
  },
  {
    name: 'Metadata response', field: 'topics[0].partitions[0].replicas', decode: decodeMetadataResponse,
    body: body((w) => { okHeader(w); w.u32(0); w.i32(-1); w.u32(1); w.i16(0); w.string('t'); w.u32(1); w.i16(0); w.i32(0); w.i32(0); w.i32(0); w.u32(HUGE); padding(w); }),
  },
  {
    name: 'Metadata response', field: 'topics[0].partitions[0].isr', decode: decodeMetadataResponse,
    body: body((w) => { okHeader(w); w.u32(0); w.i32(-1); w.u32(1); w.i16(0); w.string('t'); w.u32(1); w.i16(0); w.i32(0); w.i32(0); w.i32(0); w.u32(0); w.u32(HUGE); padding(w); }),
  },
  { name: 'CreateTopics request', field: 'topics', decode: decodeCreateTopicsRequest, body: body((w) => { w.u32(HUGE); padding(w); }) },
  { name: 'CreateTopics response', field: 'results', decode: decodeCreateTopicsResponse, body: body((w) => { okHeader(w); w.u32(HUGE); }) },
  { name: 'DeleteTopics request', field: 'names', decode: decodeDeleteTopicsRequest, body: body((w) => { w.u32(HUGE); w.string('a'); }) },
  { name: 'DeleteTopics response', field: 'results', decode: decodeDeleteTopicsResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
  { name: 'Produce request', field: 'topics', decode: decodeProduceRequest, body: body((w) => { w.i8(1); w.i32(0); w.u32(HUGE); padding(w); }) },
  {
    name: 'Produce request', field: 'topics[0].partitions', decode: decodeProduceRequest,
    body: body((w) => { w.i8(1); w.i32(0); w.u32(1); w.string('t'); w.u32(HUGE); padding(w); }),
  },
  { name: 'Produce response', field: 'topics', decode: decodeProduceResponse, body: body((w) => { okHeader(w); w.u32(HUGE); }) },
  {
    name: 'Produce response', field: 'topics[0].partitions', decode: decodeProduceResponse,
    body: body((w) => { okHeader(w); w.u32(1); w.string('t'); w.u32(HUGE); padding(w); }),
  },
  { name: 'Fetch request', field: 'partitions', decode: decodeFetchRequest, body: body((w) => { for (let i = 0; i < 4; i++) w.i32(0); w.u32(HUGE); padding(w); }) },
  { name: 'Fetch response', field: 'partitions', decode: decodeFetchResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
  { name: 'ListOffsets request', field: 'partitions', decode: decodeListOffsetsRequest, body: body((w) => { w.u32(HUGE); }) },
  { name: 'ListOffsets response', field: 'partitions', decode: decodeListOffsetsResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
  {
    name: 'OffsetCommit request', field: 'offsets', decode: decodeOffsetCommitRequest,
    body: body((w) => { w.string('g'); w.i32(0); w.string('m'); w.u32(HUGE); padding(w); }),
  },
  { name: 'OffsetCommit response', field: 'results', decode: decodeOffsetCommitResponse, body: body((w) => { okHeader(w); w.u32(HUGE); }) },
  { name: 'OffsetFetch request', field: 'partitions', decode: decodeOffsetFetchRequest, body: body((w) => { w.string('g'); w.u32(HUGE); padding(w); }) },
  { name: 'OffsetFetch response', field: 'results', decode: decodeOffsetFetchResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
  { name: 'OffsetForLeaderEpoch request', field: 'partitions', decode: decodeOffsetForLeaderEpochRequest, body: body((w) => { w.i32(1); w.u32(HUGE); padding(w); }) },
  { name: 'OffsetForLeaderEpoch response', field: 'partitions', decode: decodeOffsetForLeaderEpochResponse, body: body((w) => { okHeader(w); w.u32(HUGE); padding(w); }) },
];

/** Generous: refusing a count is a multiplication and a comparison, microseconds; allocating 2^32 slots is not. */
const HUGE_COUNT_DECODE_MS_MAX = 50;

describe('an array count of 0xFFFFFFFF', () => {
  for (const testCase of HUGE_COUNT_CASES) {
    it(`${testCase.name} ${testCase.field}: refused before allocating, at once`, () => {
      const startedMs = performance.now();
      const error = expectDecodeError(() => testCase.decode(testCase.body));
      const elapsedMs = performance.now() - startedMs;
      expect(error.field).toBe(testCase.field);
      expect(error.message).toContain(`${testCase.name}: ${testCase.field} count 4294967295 at offset ${error.offsetBytes} needs at least`);
      expect(error.message).toContain('refused before allocating');
      expect(elapsedMs).toBeLessThan(HUGE_COUNT_DECODE_MS_MAX);
    });
  }

  it('covers every array of every API (24 arrays)', () => {
    expect(new Set(HUGE_COUNT_CASES.map((testCase) => `${testCase.name} ${testCase.field}`)).size).toBe(24);
  });

  it('writing 0xFFFFFFFF over any 4 bytes of any sample body is refused or decoded, each in bounded time', () => {
    const startedMs = performance.now();
    let decodes = 0;
    for (const codec of CODECS) {
      for (const sample of codec.samples) {
        const original = codec.encode(sample);
        if (original.length > 4096) continue;
        for (let at = 0; at + 4 <= original.length; at++) {
          const forged = original.slice();
          forged.fill(0xff, at, at + 4);
          decodeError(() => codec.decode(forged));
          decodes++;
        }
      }
    }
    expect(decodes).toBeGreaterThan(1000);
    expect(performance.now() - startedMs).toBeLessThan(decodes * HUGE_COUNT_DECODE_MS_MAX);
  });

  it('a bytes length of 0xFFFFFFFF is refused against the bytes left', () => {
    const forged = body((w) => { w.i16(0); w.i64(0); w.i64(0); w.u32(HUGE); w.u8(1); });
    expect(expectDecodeError(() => decodeSubscribePush(forged)).message).toMatch(
      /Subscribe push: records length 4294967295 at offset 18 exceeds the 1 bytes left$/,
    );
  });
});

describe('strings', () => {
  it('refuses a string length above stringBytesMax (32,767) even when the bytes are there', () => {
    for (const lengthBytes of [32_768, 65_535]) {
      const forged = body((w) => { w.u16(1); w.u16(lengthBytes); for (let i = 0; i < lengthBytes; i++) w.u8(0x61); });
      const error = expectDecodeError(() => decodeHandshakeRequest(forged));
      expect(error.message).toMatch(new RegExp(`Handshake request: clientId length ${lengthBytes} at offset 2 exceeds stringBytesMax 32767$`));
    }
  });

  it('refuses a nullableString length below -1', () => {
    for (const lengthBytes of [-2, -32_768]) {
      const forged = body((w) => { okHeader(w); w.u32(1); w.string('t'); w.i32(0); w.i16(0); w.bool(true); w.i64(0); w.i16(lengthBytes); });
      expect(expectDecodeError(() => decodeOffsetFetchResponse(forged)).message).toMatch(
        new RegExp(`results\\[0\\]\\.metadata length ${lengthBytes} at offset 26 is neither -1 \\(null\\) nor a byte count$`),
      );
    }
  });

  it('refuses bytes that are not UTF-8: a bad continuation, an overlong form, an encoded surrogate', () => {
    for (const bad of [[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff]]) {
      const forged = body((w) => { w.u16(1); w.u16(bad.length); for (const byte of bad) w.u8(byte); });
      expect(expectDecodeError(() => decodeHandshakeRequest(forged)).message).toMatch(/Handshake request: clientId at offset 2 is not valid UTF-8$/);
    }
  });
});

describe('integers', () => {
  it('refuses an i64 outside ±(2^53-1), naming the exact value', () => {
    const values = [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n];
    for (const value of values) {
      const forged = body((w) => { w.string('t'); w.i32(0); w.u32(0); w.u32(0); w.u32(1); });
      new DataView(forged.buffer, forged.byteOffset).setBigInt64(7, value);
      expect(expectDecodeError(() => decodeSubscribeRequest(forged)).message).toMatch(
        new RegExp(`Subscribe request: offset value ${value} at offset 7 is outside ±\\(2\\^53-1\\)$`),
      );
    }
  });

  it('refuses a bool other than 0 or 1', () => {
    expect(expectDecodeError(() => decodeMetadataRequest(Uint8Array.of(2, 0, 0, 0, 0))).message).toMatch(
      /Metadata request: allTopics value 2 at offset 0 is not 0 or 1$/,
    );
    const forged = body((w) => { okHeader(w); w.u32(1); w.string(''); w.i32(0); w.i16(0); w.u8(0xff); w.i64(0); w.i64(0); });
    expect(expectDecodeError(() => decodeListOffsetsResponse(forged)).field).toBe('partitions[0].found');
  });
});

describe('trailing bytes', () => {
  for (const codec of CODECS) {
    it(`${codec.name}: a byte after the body is refused`, () => {
      for (const sample of codec.samples) {
        const original = codec.encode(sample);
        const longer = new Uint8Array(original.length + 1);
        longer.set(original);
        const error = expectDecodeError(() => codec.decode(longer));
        const headerOnly = (sample as { headerOnly?: boolean }).headerOnly === true;
        // A header-only body with a byte more is no longer header-only: a field is then cut short.
        if (!headerOnly) expect(error.message).toContain(`${codec.name}: 1 trailing byte at offset ${original.length} after the end of the body`);
      }
    });
  }

  it('InitProducerId request: its body is empty', () => {
    expect(decodeInitProducerIdRequest(new Uint8Array(0))).toEqual({});
    expect(expectDecodeError(() => decodeInitProducerIdRequest(Uint8Array.of(0, 0))).message).toMatch(/2 trailing bytes at offset 0/);
  });
});

describe('frame header', () => {
  it('a frame shorter than 8 bytes is a FrameHeaderError (close 1002), distinct from a body error', () => {
    for (let length = 0; length < FRAME_HEADER_BYTES; length++) {
      const error = (() => { try { decodeFrameHeader(new Uint8Array(length).fill(1)); } catch (caught) { return caught; } })();
      expect(error).toBeInstanceOf(FrameHeaderError);
      expect(error).not.toBeInstanceOf(BodyDecodeError);
      expect(error).toMatchObject({ problem: 'tooShort', closeCode: 1002, errorName: 'INVALID_REQUEST' });
      expect((error as Error).message).toContain(`frame of ${length} byte`);
    }
  });

  it('an unknown kind is a FrameHeaderError (close 1002)', () => {
    for (const kind of [0, 4, 0x80, 0xff]) {
      expect(() => decodeFrameHeader(Uint8Array.of(kind, 0, 0, 1, 0, 0, 0, 1))).toThrow(
        expect.objectContaining({ problem: 'unknownKind', closeCode: 1002, message: expect.stringContaining(`frame kind ${kind} at offset 0`) }),
      );
    }
  });

  it('reads an unknown apiKey and any apiVersion: the broker answers those, it does not close', () => {
    expect(decodeFrameHeader(Uint8Array.of(1, 0xff, 0xff, 0xff, 0, 0, 0, 5))).toEqual({
      kind: FrameKind.request, apiKey: 255, apiVersion: 0xffff, correlationId: 5,
    });
  });
});
