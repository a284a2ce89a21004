import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation } from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';

/** Seed of the random buffers; change it to explore, keep it to replay. */
const SEED = 0x0c5c_32c0;
const RANDOM_BUFFER_SIZES_BYTES = [0, 1, 7, 64, 4097] as const;
const RANDOM_BUFFERS_PER_SIZE = 8;

/**
 * CRC-32C written from its definition, one bit at a time, so that it shares nothing with the
 * code under test: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
 */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}


function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

describe('CRC-32C', () => {
  it('gives the published check value 0xE3069283 for ASCII "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32cBitwise(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('gives 0 for no bytes and an unsigned 32-bit result otherwise', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const all = crc32c(new Uint8Array(256).fill(0xff));
    expect(Number.isInteger(all) && all >= 0 && all <= 0xffffffff).toBe(true);
  });

  it('runs on the native sse4_crc32 addon, not the JavaScript fallback', () => {
    expect(crc32cImplementation).toBe('native');
  });

  it(`agrees with a bitwise CRC-32C on seeded random buffers (seed ${SEED})`, () => {
    const random = mulberry32(SEED);
    for (const sizeBytes of RANDOM_BUFFER_SIZES_BYTES) {
      for (let round = 0; round < RANDOM_BUFFERS_PER_SIZE; round++) {
        const bytes = randomBytes(random, sizeBytes);
        expect(crc32c(bytes), `seed ${SEED}, ${sizeBytes} bytes, round ${round}`).toBe(crc32cBitwise(bytes));
        expect(crc32c(Buffer.from(bytes)), `Buffer, ${sizeBytes} bytes`).toBe(crc32cBitwise(bytes));
      }
    }
  });

  it('checksums only the bytes of a view into a larger buffer', () => {
    // The encoder and validator pass subarrays (bytes 21..end of a batch); the addon must honour
    // byteOffset and length rather than read the whole underlying ArrayBuffer.
    const random = mulberry32(SEED + 1);
    const whole = randomBytes(random, 4097);
    for (const [start, end] of [[21, 4097], [1, 2], [100, 164], [4000, 4097], [7, 7]] as const) {
      const view = whole.subarray(start, end);
      expect(crc32c(view), `view [${start}, ${end})`).toBe(crc32cBitwise(whole.slice(start, end)));
    }
  });
});
