import { BodyDecodeError } from './decode-error.js';
import { NULL_STRING_LENGTH, STRING_BYTES_MAX } from './wire-types.js';
import { assert } from '../errors/assert.js';

/**
 * Reads the primitive types of docs/protocol.md, "Conventions", from one body. All integers are
 * big-endian.
 *
 *   u8, u16, u32      unsigned, 1/2/4 bytes
 *   i8, i16, i32      two's complement, 1/2/4 bytes
 *   i64               two's complement, 8 bytes; values outside ±(2^53-1) are refused
 *   string            u16 byte length, then UTF-8 (at most stringBytesMax = 32,767 bytes)
 *   nullableString    i16 byte length, -1 for null, then UTF-8
 *   bytes             u32 byte length, then the bytes
 *   array<T>          u32 count, then the elements; a count that cannot fit in the bytes left
 *                     is refused before anything is allocated
 *   bool              u8, 0 or 1
 *
 * No length is trusted: each is checked against the bytes left before anything is read or
 * allocated. Every problem is a BodyDecodeError (INVALID_REQUEST) naming the field by its path
 * (`topics[0].partitions[1].records`) and the offset of its first byte in the body. `bytes` are
 * returned as views into the body, not copies.
 */

/** Strict: invalid UTF-8 is a malformed body, not U+FFFD; a leading U+FEFF is kept, not eaten. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const TWO_POW_32 = 0x1_0000_0000;

export class ByteReader {
  private readonly body: Uint8Array;
  private readonly view: DataView;
  /** What is being decoded, e.g. "Produce request"; the start of every error message. */
  private readonly context: string;
  private position = 0;
  /** The arrays being read, outermost first, and the index of the element in each. */
  private readonly pathFields: string[] = [];
  private readonly pathIndices: number[] = [];

  constructor(bytes: Uint8Array, context: string) {
    this.body = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.context = context;
  }

  get offsetBytes(): number {
    return this.position;
  }

  get remainingBytes(): number {
    return this.body.length - this.position;
  }

  u8(field: string): number {
    return this.view.getUint8(this.take(field, 1, 'u8'));
  }

  u16(field: string): number {
    return this.view.getUint16(this.take(field, 2, 'u16'));
  }

  u32(field: string): number {
    return this.view.getUint32(this.take(field, 4, 'u32'));
  }

  i8(field: string): number {
    return this.view.getInt8(this.take(field, 1, 'i8'));
  }

  i16(field: string): number {
    return this.view.getInt16(this.take(field, 2, 'i16'));
  }

  i32(field: string): number {
    return this.view.getInt32(this.take(field, 4, 'i32'));
  }

  /** An i64 as an exact JS number; one outside ±(2^53-1) is refused. */
  i64(field: string): number {
    const at = this.take(field, 8, 'i64');
    const high = this.view.getInt32(at);
    const low = this.view.getUint32(at + 4);
    // high * 2^32 is exact; the sum is exact whenever its magnitude is at most 2^53, and any
    // value beyond that (rounded or not) is not a safe integer either.
    const value = high * TWO_POW_32 + low;
    if (!Number.isSafeInteger(value)) {
      const exact = this.view.getBigInt64(at);
      this.fail(field, at, `value ${exact} at offset ${at} is outside ±(2^53-1)`);
    }
    return value;
  }

  bool(field: string): boolean {
    const at = this.take(field, 1, 'bool');
    const value = this.view.getUint8(at);
    if (value > 1) this.fail(field, at, `value ${value} at offset ${at} is not 0 or 1`);
    return value === 1;
  }

  string(field: string): string {
    const at = this.take(field, 2, 'u16 length');
    const lengthBytes = this.view.getUint16(at);
    return this.utf8(field, at, lengthBytes);
  }

  nullableString(field: string): string | null {
    const at = this.take(field, 2, 'i16 length');
    const lengthBytes = this.view.getInt16(at);
    if (lengthBytes === NULL_STRING_LENGTH) return null;
    if (lengthBytes < 0) {
      this.fail(field, at, `length ${lengthBytes} at offset ${at} is neither -1 (null) nor a byte count`);
    }
    return this.utf8(field, at, lengthBytes);
  }

  /** A view into the body (no copy): it lives as long as the body's buffer is left untouched. */
  bytes(field: string): Uint8Array {
    const at = this.take(field, 4, 'u32 length');
    const lengthBytes = this.view.getUint32(at);
    this.checkLength(field, at, lengthBytes);
    const start = this.position;
    this.position += lengthBytes;
    return this.body.subarray(start, this.position);
  }

  /**
   * An array whose elements each take at least `elementBytesMin` bytes: a count that cannot fit
   * in the bytes left is refused before the array exists, so the loop is bounded by the body's
   * length, whatever the count claims.
   */
  array<T>(field: string, elementBytesMin: number, readElement: (reader: ByteReader) => T): T[] {
    assert(Number.isInteger(elementBytesMin) && elementBytesMin >= 1, `elementBytesMin ${elementBytesMin} of ${field}`);
    const at = this.take(field, 4, 'u32 count');
    const count = this.view.getUint32(at);
    const left = this.remainingBytes;
    if (count * elementBytesMin > left) {
      this.fail(field, at, `count ${count} at offset ${at} needs at least ${count * elementBytesMin} bytes `
        + `(${elementBytesMin} per element) but ${left} are left; refused before allocating`);
    }
    const depth = this.pathFields.length;
    this.pathFields.push(field);
    this.pathIndices.push(0);
    const items: T[] = [];
    for (let index = 0; index < count; index++) {
      this.pathIndices[depth] = index;
      items.push(readElement(this));
    }
    this.pathFields.pop();
    this.pathIndices.pop();
    return items;
  }

  /** Refuses trailing bytes: a body must end exactly where its last field does. */
  end(): void {
    const left = this.remainingBytes;
    if (left === 0) return;
    const at = this.position;
    throw new BodyDecodeError(this.context, '(end of body)', at,
      `${left} trailing byte${left === 1 ? '' : 's'} at offset ${at} after the end of the body`);
  }

  /** Advances past a fixed-size field and returns its offset, or fails if it is cut short. */
  private take(field: string, sizeBytes: number, typeName: string): number {
    const at = this.position;
    const left = this.body.length - at;
    if (sizeBytes > left) {
      this.fail(field, at, `(${typeName}) at offset ${at} needs ${sizeBytes} bytes but ${left} are left`);
    }
    this.position = at + sizeBytes;
    return at;
  }

  private checkLength(field: string, at: number, lengthBytes: number): void {
    const left = this.remainingBytes;
    if (lengthBytes > left) {
      this.fail(field, at, `length ${lengthBytes} at offset ${at} exceeds the ${left} bytes left`);
    }
  }

  private utf8(field: string, at: number, lengthBytes: number): string {
    if (lengthBytes > STRING_BYTES_MAX) {
      this.fail(field, at, `length ${lengthBytes} at offset ${at} exceeds stringBytesMax ${STRING_BYTES_MAX}`);
    }
    this.checkLength(field, at, lengthBytes);
    const start = this.position;
    this.position += lengthBytes;
    try {
      return utf8Decoder.decode(this.body.subarray(start, this.position));
    } catch {
      return this.fail(field, at, `at offset ${at} is not valid UTF-8`);
    }
  }

  private fail(field: string, at: number, problem: string): never {
    const path = this.pathOf(field);
    throw new BodyDecodeError(this.context, path, at, `${path} ${problem}`);
  }

  /** `topics[0].partitions[1].records`; built only when an error is thrown. */
  private pathOf(field: string): string {
    const parts = this.pathFields.map((name, depth) => `${name}[${this.pathIndices[depth]}]`);
    if (field !== '') parts.push(field);
    return parts.join('.');
  }
}

/** Decodes one whole body: `read` takes its fields, and nothing may be left after them. */
export function decodeBody<T>(bytes: Uint8Array, context: string, read: (reader: ByteReader) => T): T {
  const reader = new ByteReader(bytes, context);
  const value = read(reader);
  reader.end();
  return value;
}
