import type { RecordHeaderInput } from '../record/index.js';
import { SluiceClientError } from './errors.js';

/**
 * What callers may pass as keys, values and headers, and the bytes the client sends for them:
 * a string is UTF-8, a Uint8Array (a Node Buffer is one) is sent as it is, null is null.
 */

export type BytesInput = Uint8Array | string;

/** Headers as a plain object (one value per name) or as an ordered list (names may repeat, as in Kafka). */
export type HeadersInput =
  | { readonly [name: string]: BytesInput | null }
  | ReadonlyArray<{ readonly key: string; readonly value: BytesInput | null }>;

const utf8Encoder = new TextEncoder();

/** The bytes of a key or value; undefined counts as null. */
export function bytesOf(value: BytesInput | null | undefined, field: string): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return utf8Encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new SluiceClientError('invalid-argument', `${field} must be a string, a Uint8Array or null, not ${typeof value}`);
}

/** A key or value as the batch builder takes it (strings stay strings); undefined counts as null. */
export function checkBytesInput(value: BytesInput | null | undefined, field: string): BytesInput | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new SluiceClientError('invalid-argument', `${field} must be a string, a Uint8Array or null, not ${typeof value}`);
}

const NO_HEADERS: readonly RecordHeaderInput[] = Object.freeze([]);

/** Headers as the batch builder takes them (values checked, not encoded). */
export function headerInputsOf(headers: HeadersInput | undefined): readonly RecordHeaderInput[] {
  if (headers === undefined) return NO_HEADERS;
  return headerEntriesOf(headers).map(([key, value]) => {
    if (typeof key !== 'string') throw new SluiceClientError('invalid-argument', 'a header name must be a string');
    return { key, value: checkBytesInput(value, `header ${JSON.stringify(key)}`) };
  });
}

function headerEntriesOf(headers: HeadersInput): ReadonlyArray<readonly [unknown, BytesInput | null]> {
  return Array.isArray(headers)
    ? (headers as ReadonlyArray<{ key: string; value: BytesInput | null }>).map((header) => [header.key, header.value] as const)
    : Object.entries(headers as { readonly [name: string]: BytesInput | null });
}

/** Longest wire `string` (docs/protocol.md, stringBytesMax). */
const STRING_BYTES_MAX = 32_767;

/**
 * Checks that a name (topic, group, client id) can travel as a wire `string`: the codec asserts
 * this, and an assertion is for our bugs, not for a caller's input. Whether the broker accepts
 * the name (topic naming rules) is the broker's call.
 */
export function checkWireString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new SluiceClientError('invalid-argument', `${field} must be a non-empty string`);
  if (value.length * 3 > STRING_BYTES_MAX && utf8Encoder.encode(value).length > STRING_BYTES_MAX) {
    throw new SluiceClientError('invalid-argument', `${field} is longer than ${STRING_BYTES_MAX} UTF-8 bytes`);
  }
}
