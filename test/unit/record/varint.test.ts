import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readVarint, readVarlong, varintSize, writeVarint } from '../../../src/record/index.js';
import { VARINT_BYTES_MAX, VARLONG_BYTES_MAX } from '../../../src/record/varint.js';
import { mulberry32 } from '../../helpers/random.js';

const SEED = 0x7a12_0001;
const RANDOM_VALUES = 2_000;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
/** The fast-path range; the tests below cover the rest of the safe-integer range. */
const VARLONG_ROUND_TRIP_MIN = -(2 ** 52);
const VARLONG_ROUND_TRIP_MAX = 2 ** 52 - 1;

const VARINT_BOUNDARIES = [0, 1, -1, 63, -63, 64, -64, 65, -65, 8191, -8192, 8192, -8193, I32_MAX, I32_MIN, I32_MAX - 1, I32_MIN + 1];
const VARLONG_BOUNDARIES = [
  ...VARINT_BOUNDARIES, I32_MAX + 1, I32_MIN - 1, 2 ** 32, -(2 ** 32), 2 ** 49 - 1, -(2 ** 49),
  VARLONG_ROUND_TRIP_MAX, VARLONG_ROUND_TRIP_MIN,
];

/** Kafka's zigzag varints, byte for byte (as ByteUtils.writeVarint writes them). */
const KNOWN_ENCODINGS: ReadonlyArray<readonly [number, string]> = [
  [0, '00'], [-1, '01'], [1, '02'], [-2, '03'], [2, '04'], [63, '7e'], [-64, '7f'], [64, '8001'],
  [-65, '8101'], [300, 'd804'], [I32_MAX, 'feffffff0f'], [I32_MIN, 'ffffffff0f'],
];

/** KafkaJS's protocol Encoder: an independent writer of the same varints. */
interface KafkaJsEncoder {
  writeVarInt(value: number): KafkaJsEncoder;
  writeVarLong(value: number | bigint): KafkaJsEncoder;
  readonly buffer: Buffer;
}
const require = createRequire(import.meta.url);
const KafkaJsEncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => KafkaJsEncoder;


/** An integer in [min, max], biased toward small magnitudes so every byte length turns up. */
function randomInteger(random: () => number, min: number, max: number): number {
  const magnitudeBitsMax = Math.ceil(Math.log2(Math.max(-min, max) + 1));
  const magnitude = Math.floor(random() * 2 ** Math.floor(random() * (magnitudeBitsMax + 1)));
  const value = random() < 0.5 && magnitude !== 0 ? -magnitude : magnitude;
  return Math.min(max, Math.max(min, value));
}

function encode(value: number, position = 0): { bytes: Uint8Array; end: number } {
  const bytes = new Uint8Array(position + VARLONG_BYTES_MAX + 2).fill(0xaa);
  return { bytes, end: writeVarint(bytes, position, value) };
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('zigzag varints', () => {
  it('write Kafka\'s known encodings', () => {
    for (const [value, hex] of KNOWN_ENCODINGS) {
      const { bytes, end } = encode(value);
      expect(hexOf(bytes.subarray(0, end)), `${value}`).toBe(hex);
      expect(varintSize(value), `${value}`).toBe(hex.length / 2);
    }
  });

  it('read Kafka\'s known encodings back, as varint and as varlong', () => {
    for (const [value, hex] of KNOWN_ENCODINGS) {
      const bytes = Buffer.from(hex, 'hex');
      expect(readVarint(bytes, 0), `${value}`).toEqual({ ok: true, value, next: bytes.length });
      expect(readVarlong(bytes, 0), `${value}`).toEqual({ ok: true, value, next: bytes.length });
    }
  });

  it('round trip every i32 boundary as a varint, at any position, without touching other bytes', () => {
    for (const value of VARINT_BOUNDARIES) {
      for (const position of [0, 3]) {
        const { bytes, end } = encode(value, position);
        expect(end - position, `${value}`).toBe(varintSize(value));
        expect(end - position).toBeLessThanOrEqual(VARINT_BYTES_MAX);
        expect(readVarint(bytes, position), `${value} at ${position}`).toEqual({ ok: true, value, next: end });
        expect(Array.from(bytes.subarray(0, position)).every((byte) => byte === 0xaa)).toBe(true);
        expect(Array.from(bytes.subarray(end)).every((byte) => byte === 0xaa)).toBe(true);
      }
    }
  });

  it('round trip varlong boundaries up to ±2^52', () => {
    for (const value of VARLONG_BOUNDARIES) {
      const { bytes, end } = encode(value);
      expect(end, `${value}`).toBe(varintSize(value));
      expect(readVarlong(bytes, 0), `${value}`).toEqual({ ok: true, value, next: end });
    }
  });

  // Zigzag forms of these pass 2^53 and take the BigInt path.
  it('round trips varlong ±(2^53 - 1), the ends of the safe-integer range', () => {
    for (const value of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const { bytes, end } = encode(value);
      expect(readVarlong(bytes, 0), `${value}`).toEqual({ ok: true, value, next: end });
    }
  });

  it('writes Kafka\'s bytes for varlong -(2^53 - 1)', () => {
    const { bytes, end } = encode(Number.MIN_SAFE_INTEGER);
    expect(hexOf(bytes.subarray(0, end))).toBe('fdffffffffffff1f');
  });

  it(`agree with KafkaJS's encoder and round trip on seeded random values (seed ${SEED})`, () => {
    const random = mulberry32(SEED);
    for (let round = 0; round < RANDOM_VALUES; round++) {
      const int = randomInteger(random, I32_MIN, I32_MAX);
      const long = randomInteger(random, VARLONG_ROUND_TRIP_MIN, VARLONG_ROUND_TRIP_MAX);
      const intEncoded = encode(int);
      const longEncoded = encode(long);
      const context = `seed ${SEED}, round ${round}: ${int} / ${long}`;
      expect(hexOf(intEncoded.bytes.subarray(0, intEncoded.end)), context).toBe(new KafkaJsEncoderClass().writeVarInt(int).buffer.toString('hex'));
      expect(hexOf(longEncoded.bytes.subarray(0, longEncoded.end)), context).toBe(new KafkaJsEncoderClass().writeVarLong(long).buffer.toString('hex'));
      expect(readVarint(intEncoded.bytes, 0), context).toEqual({ ok: true, value: int, next: varintSize(int) });
      expect(readVarlong(longEncoded.bytes, 0), context).toEqual({ ok: true, value: long, next: varintSize(long) });
    }
  });

  it('report truncated input, including none at all, as truncated', () => {
    for (const read of [readVarint, readVarlong]) {
      expect(read(new Uint8Array(0), 0)).toEqual({ ok: false, reason: 'truncated' });
      expect(read(Uint8Array.of(0x02), 1)).toEqual({ ok: false, reason: 'truncated' });
      expect(read(Uint8Array.of(0x80), 0)).toEqual({ ok: false, reason: 'truncated' });
      expect(read(Uint8Array.of(0xff, 0xff, 0xff), 0)).toEqual({ ok: false, reason: 'truncated' });
    }
    for (const value of [64, -65, I32_MAX, I32_MIN]) {
      const { bytes, end } = encode(value);
      for (let cut = 0; cut < end; cut++) {
        expect(readVarint(bytes.subarray(0, cut), 0), `${value} cut to ${cut}`).toEqual({ ok: false, reason: 'truncated' });
      }
    }
  });

  it(`refuse a varint longer than ${VARINT_BYTES_MAX} bytes and a varlong longer than ${VARLONG_BYTES_MAX}`, () => {
    const sixByteVarint = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
    expect(readVarint(sixByteVarint, 0)).toEqual({ ok: false, reason: 'too-long' });
    const elevenByteVarlong = Uint8Array.of(...new Array<number>(10).fill(0x80), 0x01);
    expect(readVarlong(elevenByteVarlong, 0)).toEqual({ ok: false, reason: 'too-long' });
    // Padded zero: legal length, so it decodes (Kafka accepts it too).
    expect(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x00), 0)).toEqual({ ok: true, value: 0, next: 5 });
  });

  it('refuse a five-byte varint whose value does not fit in 32 bits', () => {
    expect(readVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f), 0)).toEqual({ ok: false, reason: 'out-of-range' });
    expect(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), 0)).toEqual({ ok: false, reason: 'out-of-range' });
  });

  it('refuse a varlong outside the safe-integer range rather than round it', () => {
    // zigzag 2^63 - 1 (i64 min): ten bytes, far past 2^53.
    const i64Min = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect(readVarlong(i64Min, 0)).toEqual({ ok: false, reason: 'out-of-range' });
    const twoTo60 = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    expect(readVarlong(twoTo60, 0)).toEqual({ ok: false, reason: 'out-of-range' });
  });
});
