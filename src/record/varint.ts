/**
 * Zigzag variable-length integers, as Kafka's ByteUtils writes them (protobuf's encoding): 7 bits
 * a byte, low bits first, high bit set on every byte but the last. A varint holds an i32 (at
 * most 5 bytes), a varlong an i64 (at most 10 bytes). We keep decoded values in JS numbers and
 * refuse any outside the safe-integer range rather than round them.
 *
 * The zigzag form of a safe integer can exceed 2^53 (it is up to 2^54), so values whose
 * magnitude passes 2^52 take a BigInt path; everything a real record holds takes the fast one.
 */

export const VARINT_BYTES_MAX = 5;
export const VARLONG_BYTES_MAX = 10;

// |value| <= 2^52 - 1 keeps the zigzag form below 2^53, exact in a double.
const FAST_MAGNITUDE_MAX = 2 ** 52 - 1;
// 7 groups of 7 bits: a zigzag value below 2^49, exact in a double.
const FAST_BYTES_MAX = 7;

/** Where a decoded value ends, or why it could not be decoded. */
export type VarintRead =
  | { readonly ok: true; readonly value: number; readonly next: number }
  | { readonly ok: false; readonly reason: 'truncated' | 'too-long' | 'out-of-range' };

/** Bytes the zigzag varint encoding of `value` takes. */
export function varintSize(value: number): number {
  if ((value | 0) === value) {
    const zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
    return zigzag < 0x80 ? 1 : zigzag < 0x4000 ? 2 : zigzag < 0x200000 ? 3 : zigzag < 0x10000000 ? 4 : 5;
  }
  if (Math.abs(value) > FAST_MAGNITUDE_MAX) return bigVarintSize(value);
  let zigzag = zigzagEncode(value);
  let size = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 128);
    size += 1;
  }
  return size;
}

/** Writes `value` (a safe integer) as a zigzag varint at `position`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, position: number, value: number): number {
  // Most values (lengths, deltas) fit in 32 bits, where bit operators are exact and fast.
  if ((value | 0) === value) {
    let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
    let at = position;
    while (zigzag >= 0x80) {
      bytes[at++] = (zigzag & 0x7f) | 0x80;
      zigzag >>>= 7;
    }
    bytes[at++] = zigzag;
    return at;
  }
  if (Math.abs(value) > FAST_MAGNITUDE_MAX) return writeBigVarint(bytes, position, value);
  let zigzag = zigzagEncode(value);
  let at = position;
  while (zigzag >= 0x80) {
    bytes[at++] = (zigzag % 128) | 0x80;
    zigzag = Math.floor(zigzag / 128);
  }
  bytes[at++] = zigzag;
  return at;
}

/** Reads a zigzag varint (i32) at `position`. */
export function readVarint(bytes: Uint8Array, position: number): VarintRead {
  const read = readUnsigned(bytes, position, VARINT_BYTES_MAX);
  if (!read.ok) return read;
  if (read.value > 0xffffffff) return { ok: false, reason: 'out-of-range' };
  return { ok: true, value: zigzagDecode(read.value), next: read.next };
}

/** Reads a zigzag varlong (i64, limited to the safe-integer range) at `position`. */
export function readVarlong(bytes: Uint8Array, position: number): VarintRead {
  const read = readUnsigned(bytes, position, VARLONG_BYTES_MAX);
  if (!read.ok) return read;
  if (read.next - position <= FAST_BYTES_MAX) return { ok: true, value: zigzagDecode(read.value), next: read.next };
  return readBigVarlong(bytes, position, read.next);
}

// The float accumulation below is exact up to 7 bytes; longer values are re-read exactly.
function readUnsigned(bytes: Uint8Array, position: number, bytesMax: number): VarintRead {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < bytesMax; i++) {
    const at = position + i;
    if (at >= bytes.length) return { ok: false, reason: 'truncated' };
    const byte = bytes[at]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { ok: true, value, next: at + 1 };
    multiplier *= 128;
  }
  return { ok: false, reason: 'too-long' };
}

function readBigVarlong(bytes: Uint8Array, position: number, next: number): VarintRead {
  let zigzag = 0n;
  for (let at = next - 1; at >= position; at--) zigzag = (zigzag << 7n) | BigInt(bytes[at]! & 0x7f);
  if (zigzag >= 1n << 64n) return { ok: false, reason: 'out-of-range' };
  const value = (zigzag & 1n) === 0n ? zigzag >> 1n : -((zigzag + 1n) >> 1n);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return { ok: false, reason: 'out-of-range' };
  return { ok: true, value: Number(value), next };
}

function bigZigzag(value: number): bigint {
  const big = BigInt(value);
  return big >= 0n ? big << 1n : (-big << 1n) - 1n;
}

function bigVarintSize(value: number): number {
  let zigzag = bigZigzag(value);
  let size = 1;
  while (zigzag >= 0x80n) {
    zigzag >>= 7n;
    size += 1;
  }
  return size;
}

function writeBigVarint(bytes: Uint8Array, position: number, value: number): number {
  let zigzag = bigZigzag(value);
  let at = position;
  while (zigzag >= 0x80n) {
    bytes[at++] = Number(zigzag & 0x7fn) | 0x80;
    zigzag >>= 7n;
  }
  bytes[at++] = Number(zigzag);
  return at;
}

// Arithmetic rather than bit operators, so that values past 32 bits survive.
function zigzagEncode(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function zigzagDecode(zigzag: number): number {
  return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
}
