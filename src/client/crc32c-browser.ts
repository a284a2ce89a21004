/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in plain JavaScript, with the API of
 * `fast-crc32c`: `calculate(bytes, initial?)` returns the unsigned CRC, and passing a previous
 * result as `initial` continues it over more bytes.
 *
 * Why it exists: src/record/crc32c.ts imports `fast-crc32c`, whose loader `require`s a native
 * addon and whose fallback uses `Buffer`; neither exists in a browser. A browser build maps the
 * module `fast-crc32c` to this file (and `fast-crc32c/impls/sse4_crc32c.js` to an empty module,
 * so the record layer reports `javascript`); see test/integration/client-browser-bundle.test.ts.
 * Node keeps the native addon, which is about 20 times faster.
 *
 * Slicing-by-8 (Intel's technique): eight 256-entry tables let the loop consume 8 bytes per step
 * instead of one, about 4 times the speed of the byte-wise table. The tables are built once, at
 * module load, from the polynomial (8 KiB).
 */

const POLYNOMIAL_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;
const TABLE_ENTRIES = 256;

function buildTables(): Int32Array[] {
  const tables = Array.from({ length: TABLE_COUNT }, () => new Int32Array(TABLE_ENTRIES));
  const first = tables[0]!;
  for (let byte = 0; byte < TABLE_ENTRIES; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ POLYNOMIAL_REFLECTED : crc >>> 1;
    first[byte] = crc;
  }
  for (let byte = 0; byte < TABLE_ENTRIES; byte++) {
    let crc = first[byte]!;
    for (let table = 1; table < TABLE_COUNT; table++) {
      crc = first[crc & 0xff]! ^ (crc >>> 8);
      tables[table]![byte] = crc;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
];

const utf8Encoder = new TextEncoder();

/** CRC-32C of `input` (a string is taken as UTF-8), continuing from `initial` (default 0). */
export function crc32cCalculate(input: Uint8Array | string, initial = 0): number {
  const bytes = typeof input === 'string' ? utf8Encoder.encode(input) : input;
  let crc = ~initial;
  let index = 0;
  const length = bytes.length;
  const wholeEnd = length - (length % 8);
  while (index < wholeEnd) {
    const low = (crc ^ (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24)));
    crc = T7[low & 0xff]! ^ T6[(low >>> 8) & 0xff]! ^ T5[(low >>> 16) & 0xff]! ^ T4[low >>> 24]!
      ^ T3[bytes[index + 4]!]! ^ T2[bytes[index + 5]!]! ^ T1[bytes[index + 6]!]! ^ T0[bytes[index + 7]!]!;
    index += 8;
  }
  while (index < length) {
    crc = T0[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
    index += 1;
  }
  return ~crc >>> 0;
}

/** The `fast-crc32c` module shape, so a bundler can substitute this file for that package. */
const crc32cBrowser = { calculate: crc32cCalculate };

export default crc32cBrowser;
