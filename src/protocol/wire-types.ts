/**
 * Sizes and limits fixed by the wire types of docs/protocol.md, "Conventions" and "Limits".
 * They are part of the protocol (versions 1 and 2), not broker settings: a broker cannot change them, so they
 * live here rather than in src/config/.
 */

/** Longest `string` or `nullableString`, in UTF-8 bytes (`stringBytesMax`). */
export const STRING_BYTES_MAX = 32_767;

/** Largest magnitude an `i64` may carry: 2^53 - 1, so that every value is an exact JS number. */
export const INT64_MAGNITUDE_MAX = Number.MAX_SAFE_INTEGER;

/** The `nullableString` length that means null. */
export const NULL_STRING_LENGTH = -1;

/**
 * Encoded size of each type, in bytes; for variable-size types, the smallest (an empty string,
 * null, no bytes, no elements). Sums of these bound an array's count by the bytes left.
 */
export const WIRE_BYTES = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  i64: 8,
  stringMin: 2,
  nullableStringMin: 2,
  bytesMin: 4,
  arrayMin: 4,
} as const;
