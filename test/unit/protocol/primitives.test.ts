import { describe, expect, it } from 'vitest';
import { BodyDecodeError, ByteReader, ByteWriter, decodeBody, encodeBody, STRING_BYTES_MAX } from '../../../src/protocol/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { LONGEST_ASCII, LONGEST_MULTIBYTE, MULTIBYTE } from './samples.js';

const SEED = 0x1264_0001;
const RANDOM_I64_ROUNDS = 2_000;

function reader(bytes: Uint8Array | readonly number[]): ByteReader {
  return new ByteReader(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes), 'Test body');
}

describe('integers', () => {
  it('writes and reads every fixed-size type big-endian at its bounds', () => {
    const bytes = encodeBody((w) => {
      w.u8(0xff); w.u16(0xffff); w.u32(0xffff_ffff); w.i8(-128); w.i16(-32_768); w.i32(-0x8000_0000);
      w.i8(127); w.i16(32_767); w.i32(0x7fff_ffff); w.bool(true); w.bool(false);
    });
    expect(Array.from(bytes.subarray(0, 7))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const r = reader(bytes);
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.i8('d'), r.i16('e'), r.i32('f'), r.i8('g'), r.i16('h'), r.i32('i')]).toEqual([
      0xff, 0xffff, 0xffff_ffff, -128, -32_768, -0x8000_0000, 127, 32_767, 0x7fff_ffff,
    ]);
    expect([r.bool('j'), r.bool('k')]).toEqual([true, false]);
    r.end();
  });

  it('agrees with BigInt two\'s complement for i64 across ±(2^53-1) (seeded)', () => {
    const random = mulberry32(SEED);
    const edges = [0, -1, 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 52 + 1];
    const randoms = Array.from({ length: RANDOM_I64_ROUNDS }, () => {
      const magnitude = Math.floor(random() * 2 ** Math.floor(random() * 54));
      const value = Math.min(magnitude, Number.MAX_SAFE_INTEGER) * (random() < 0.5 ? -1 : 1);
      return value === 0 ? 0 : value; // no -0: the wire has one zero
    });
    for (const value of [...edges, ...randoms]) {
      const bytes = encodeBody((w) => w.i64(value));
      const expected = new Uint8Array(8);
      new DataView(expected.buffer).setBigInt64(0, BigInt(value));
      expect(bytes, String(value)).toEqual(expected);
      expect(decodeBody(bytes, 'Test body', (r) => r.i64('value'))).toBe(value);
    }
  });

  it('will not write a value its type cannot hold (an assertion: a bug in the caller)', () => {
    const attempts: readonly ((w: ByteWriter) => void)[] = [
      (w) => w.u8(256), (w) => w.u8(-1), (w) => w.u16(65_536), (w) => w.u32(2 ** 32), (w) => w.u32(-1),
      (w) => w.i8(128), (w) => w.i16(-32_769), (w) => w.i32(2 ** 31), (w) => w.i32(1.5), (w) => w.i32(Number.NaN),
      (w) => w.i64(2 ** 53), (w) => w.i64(-(2 ** 53)), (w) => w.i64(0.5), (w) => w.i64(Number.POSITIVE_INFINITY),
      (w) => w.string(LONGEST_ASCII + 'a'), (w) => w.string(LONGEST_MULTIBYTE + 'a'), (w) => w.nullableString('€'.repeat(10_923)),
    ];
    for (const [index, attempt] of attempts.entries()) {
      expect(() => attempt(new ByteWriter()), `attempt ${index}`).toThrow(/^assertion failed/);
    }
  });
});

describe('strings', () => {
  it('round-trips empty, multi-byte, BOM-led and longest strings, and null', () => {
    const values = ['', 'a', MULTIBYTE, '\uFEFF', LONGEST_ASCII, LONGEST_MULTIBYTE, '\u0000nul'];
    const bytes = encodeBody((w) => {
      for (const value of values) w.string(value);
      w.nullableString(null);
      w.nullableString('');
      w.nullableString(LONGEST_MULTIBYTE);
    });
    const r = reader(bytes);
    for (const value of values) expect(r.string('s')).toBe(value);
    expect([r.nullableString('n'), r.nullableString('e'), r.nullableString('l')]).toEqual([null, '', LONGEST_MULTIBYTE]);
    r.end();
  });

  it('writes a length in UTF-8 bytes, not in characters', () => {
    expect(Array.from(encodeBody((w) => w.string('🚀')))).toEqual([0, 4, 0xf0, 0x9f, 0x9a, 0x80]);
    expect(Array.from(encodeBody((w) => w.nullableString(null)))).toEqual([0xff, 0xff]);
    expect(encodeBody((w) => w.string(LONGEST_MULTIBYTE)).length).toBe(2 + STRING_BYTES_MAX);
  });
});

describe('bytes and arrays', () => {
  it('returns bytes as a view of the body, not a copy', () => {
    const body = Uint8Array.of(0, 0, 0, 3, 7, 8, 9);
    const view = reader(body).bytes('records');
    expect(Array.from(view)).toEqual([7, 8, 9]);
    body[5] = 42;
    expect(view[1]).toBe(42);
  });

  it('refuses a count whose smallest elements could not fit, before reading any', () => {
    let elementsRead = 0;
    const r = reader([0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => r.array('items', 4, (inner) => { elementsRead++; return inner.i32(''); })).toThrow(
      /Test body: items count 3 at offset 0 needs at least 12 bytes \(4 per element\) but 11 are left; refused before allocating/,
    );
    expect(elementsRead).toBe(0);
  });

  it('names nested elements by their path', () => {
    const body = encodeBody((w) => w.array([[1, 2], [3]], (outer, inner) => outer.array(inner, (x, value) => x.u16(value))));
    expect(decodeBody(body, 'Test body', (r) => r.array('outer', 4, (o) => o.array('inner', 2, (i) => i.u16(''))))).toEqual([[1, 2], [3]]);
    const cut = body.subarray(0, body.length - 1);
    const error = (() => { try { decodeBody(cut, 'Test body', (r) => r.array('outer', 4, (o) => o.array('inner', 1, (i) => i.u16('')))); } catch (caught) { return caught; } })();
    expect(error).toBeInstanceOf(BodyDecodeError);
    expect(error).toMatchObject({ field: 'outer[1].inner[0]', offsetBytes: 16 });
  });
});

describe('writer growth', () => {
  it('grows past its initial capacity without losing or misplacing bytes', () => {
    const writer = new ByteWriter(0);
    const expected: number[] = [];
    for (let index = 0; index < 5_000; index++) {
      writer.u16(index);
      expected.push(index >> 8, index & 0xff);
      if (index % 997 === 0) {
        writer.string(MULTIBYTE);
        expected.push(...encodeBody((w) => w.string(MULTIBYTE)));
      }
    }
    writer.bytes(new Uint8Array(100_000).fill(7));
    const bytes = writer.finish();
    expect(Array.from(bytes.subarray(0, expected.length))).toEqual(expected);
    expect(bytes.length).toBe(expected.length + 4 + 100_000);
    expect(bytes[bytes.length - 1]).toBe(7);
  });
});
