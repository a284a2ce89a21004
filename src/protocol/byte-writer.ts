import { assert } from '../errors/assert.js';
import { INT64_MAGNITUDE_MAX, NULL_STRING_LENGTH, STRING_BYTES_MAX } from './wire-types.js';

/**
 * Writes the primitive types of docs/protocol.md, "Conventions", into a buffer that grows as
 * needed (doubling), big-endian:
 *
 *   u8, u16, u32      unsigned, 1/2/4 bytes
 *   i8, i16, i32      two's complement, 1/2/4 bytes
 *   i64               two's complement, 8 bytes; only values within ±(2^53-1)
 *   string            u16 byte length, then UTF-8 (at most stringBytesMax = 32,767 bytes)
 *   nullableString    i16 byte length, -1 for null, then UTF-8
 *   bytes             u32 byte length, then the bytes
 *   array<T>          u32 count, then the elements
 *   bool              u8, 0 or 1
 *
 * A value that does not fit its wire type is a bug in the caller (the broker, or a client layer
 * that has not validated its input), so it fails an assertion rather than being truncated.
 */

const utf8Encoder = new TextEncoder();

const TWO_POW_32 = 0x1_0000_0000;
/** Capacity of a writer made without a size hint. */
const INITIAL_CAPACITY_BYTES = 256;
/** Largest body a writer will build: the most a u32 `bytes` length could describe. */
const CAPACITY_BYTES_MAX = 0xffff_ffff;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair is 2 units, 4 bytes). */
const UTF8_BYTES_PER_CODE_UNIT_MAX = 3;
/**
 * Bytes kept free before every body encodeBody makes, where encodeFrame (frame.ts) writes the
 * frame header instead of copying the body into a new frame: for a 1 MiB push or a produce
 * request, one copy and one large allocation fewer.
 */
export const BODY_HEADROOM_BYTES = 8;
/** Buffers of bodies from encodeBody whose headroom no frame has taken yet. */
const unclaimedHeadroom = new WeakSet<ArrayBufferLike>();

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private position: number;

  /**
   * `capacityBytesHint`: the expected size, so that a large body is allocated once;
   * `headroomBytes`: left free before the body.
   */
  constructor(capacityBytesHint: number = INITIAL_CAPACITY_BYTES, private readonly headroomBytes = 0) {
    assert(Number.isInteger(capacityBytesHint) && capacityBytesHint >= 0 && capacityBytesHint <= CAPACITY_BYTES_MAX,
      `capacity hint ${capacityBytesHint}`);
    this.buffer = new Uint8Array(Math.max(capacityBytesHint, 16) + headroomBytes);
    this.view = new DataView(this.buffer.buffer);
    this.position = headroomBytes;
  }

  get lengthBytes(): number {
    return this.position - this.headroomBytes;
  }

  u8(value: number): void {
    checkInteger(value, 0, 0xff, 'u8');
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }

  u16(value: number): void {
    checkInteger(value, 0, 0xffff, 'u16');
    const at = this.reserve(2);
    this.view.setUint16(at, value);
  }

  u32(value: number): void {
    checkInteger(value, 0, 0xffff_ffff, 'u32');
    const at = this.reserve(4);
    this.view.setUint32(at, value);
  }

  i8(value: number): void {
    checkInteger(value, -0x80, 0x7f, 'i8');
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }

  i16(value: number): void {
    checkInteger(value, -0x8000, 0x7fff, 'i16');
    const at = this.reserve(2);
    this.view.setInt16(at, value);
  }

  i32(value: number): void {
    checkInteger(value, -0x8000_0000, 0x7fff_ffff, 'i32');
    const at = this.reserve(4);
    this.view.setInt32(at, value);
  }

  i64(value: number): void {
    checkInteger(value, -INT64_MAGNITUDE_MAX, INT64_MAGNITUDE_MAX, 'i64');
    const at = this.reserve(8);
    const high = Math.floor(value / TWO_POW_32);
    this.view.setInt32(at, high);
    this.view.setUint32(at + 4, value - high * TWO_POW_32);
  }

  bool(value: boolean): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value ? 1 : 0);
  }

  string(value: string): void {
    const lengthAt = this.reserve(2);
    const lengthBytes = this.utf8(value);
    this.view.setUint16(lengthAt, lengthBytes);
  }

  nullableString(value: string | null): void {
    const lengthAt = this.reserve(2);
    const lengthBytes = value === null ? NULL_STRING_LENGTH : this.utf8(value);
    this.view.setInt16(lengthAt, lengthBytes);
  }

  bytes(value: Uint8Array): void {
    this.u32(value.length);
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
  }

  array<T>(items: readonly T[], writeItem: (writer: ByteWriter, item: T) => void): void {
    this.u32(items.length);
    for (const item of items) writeItem(this, item);
  }

  /** The bytes written: a view of the writer's buffer; the writer must not be used after. */
  finish(): Uint8Array {
    return this.buffer.subarray(this.headroomBytes, this.position);
  }

  /** Writes a string's UTF-8 in place (no temporary copy) and returns its length in bytes. */
  private utf8(value: string): number {
    assert(value.length <= STRING_BYTES_MAX, `string of ${value.length} UTF-16 units exceeds stringBytesMax ${STRING_BYTES_MAX}`);
    this.ensure(value.length * UTF8_BYTES_PER_CODE_UNIT_MAX);
    const result = utf8Encoder.encodeInto(value, this.buffer.subarray(this.position));
    assert(result.read === value.length, 'encodeInto had room for the whole string');
    assert(result.written <= STRING_BYTES_MAX, `string of ${result.written} UTF-8 bytes exceeds stringBytesMax ${STRING_BYTES_MAX}`);
    this.position += result.written;
    return result.written;
  }

  /** Advances past `sizeBytes` bytes, growing the buffer if needed, and returns where they start. */
  private reserve(sizeBytes: number): number {
    this.ensure(sizeBytes);
    const at = this.position;
    this.position = at + sizeBytes;
    return at;
  }

  private ensure(sizeBytes: number): void {
    const neededBytes = this.position + sizeBytes;
    if (neededBytes <= this.buffer.length) return;
    assert(neededBytes - this.headroomBytes <= CAPACITY_BYTES_MAX, `body of ${neededBytes - this.headroomBytes} bytes exceeds ${CAPACITY_BYTES_MAX}`);
    const capacityBytes = Math.min(Math.max(neededBytes, this.buffer.length * 2), CAPACITY_BYTES_MAX + this.headroomBytes);
    const grown = new Uint8Array(capacityBytes);
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

function checkInteger(value: number, min: number, max: number, typeName: string): void {
  assert(Number.isInteger(value) && value >= min && value <= max, `${typeName} value ${value} is outside [${min}, ${max}]`);
}

/** Encodes one whole body with `write` into a fresh writer, with BODY_HEADROOM_BYTES free before it. */
export function encodeBody(write: (writer: ByteWriter) => void, capacityBytesHint?: number): Uint8Array {
  const writer = new ByteWriter(capacityBytesHint, BODY_HEADROOM_BYTES);
  write(writer);
  const body = writer.finish();
  unclaimedHeadroom.add(body.buffer);
  return body;
}

/**
 * The body with the BODY_HEADROOM_BYTES before it, as one view to write a header into, when the
 * body is what encodeBody returned (or a prefix of it) and no one has claimed that room yet;
 * otherwise null. Only the first claim succeeds, so a body framed twice is copied the second time.
 */
export function claimHeadroom(body: Uint8Array): Uint8Array | null {
  if (body.byteOffset !== BODY_HEADROOM_BYTES || !unclaimedHeadroom.delete(body.buffer)) return null;
  return new Uint8Array(body.buffer, 0, BODY_HEADROOM_BYTES + body.length);
}
