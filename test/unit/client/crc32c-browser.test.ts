import fastCrc32c from 'fast-crc32c';
import { describe, expect, it } from 'vitest';
import crc32cBrowser, { crc32cCalculate } from '../../../src/client/crc32c-browser.js';
import { mulberry32 } from '../../helpers/random.js';

const SEED = 0xc3c3_b405;

describe('the pure-JavaScript CRC-32C for browsers', () => {
  it('gives the published check value 0xE3069283 for "123456789"', () => {
    expect(crc32cCalculate(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32cCalculate('123456789')).toBe(0xe3069283);
    expect(crc32cCalculate(new Uint8Array(0))).toBe(0);
  });

  it('agrees with fast-crc32c on random buffers of every length mod 8, and on views into larger buffers', () => {
    const random = mulberry32(SEED);
    for (let round = 0; round < 300; round++) {
      const backing = Uint8Array.from({ length: Math.floor(random() * 2_100) + 16 }, () => Math.floor(random() * 256));
      const start = Math.floor(random() * 8);
      const view = backing.subarray(start, start + Math.floor(random() * (backing.length - start)));
      expect(crc32cCalculate(view)).toBe(fastCrc32c.calculate(Buffer.from(view)) >>> 0);
    }
  });

  it('continues a CRC from `initial`, as fast-crc32c does', () => {
    const random = mulberry32(SEED + 1);
    const bytes = Uint8Array.from({ length: 1_000 }, () => Math.floor(random() * 256));
    const whole = crc32cCalculate(bytes);
    expect(crc32cCalculate(bytes.subarray(333), crc32cCalculate(bytes.subarray(0, 333)))).toBe(whole);
    expect(fastCrc32c.calculate(Buffer.from(bytes.subarray(333)), crc32cCalculate(bytes.subarray(0, 333))) >>> 0).toBe(whole);
  });

  it('has the module shape of fast-crc32c, so a bundler can substitute it', () => {
    expect(typeof crc32cBrowser.calculate).toBe('function');
    expect(crc32cBrowser.calculate('The quick brown fox jumps over the lazy dog')).toBe(0x22620404);
  });
});
