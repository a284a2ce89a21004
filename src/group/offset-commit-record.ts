import { SluiceError } from '../errors/sluice-error.js';
import { decodeBody, encodeBody } from '../protocol/index.js';

/**
 * The records of `__consumer_offsets`: one per committed offset, keyed by (group, topic,
 * partition), so that replaying the partition in order leaves the latest commit of each key.
 *
 *   key   = version u16 (1) | group string | topic string | partition i32
 *   value = version u16 (1) | offset i64 | metadata nullableString | commitTimestamp i64
 *
 * (strings as in docs/protocol.md: u16 length + UTF-8). A record with a null value deletes the
 * key. The layout is ours, not Kafka's schema, but keeps its shape: versioned key and value.
 */
export const OFFSET_RECORD_VERSION = 1;

/** Which offset a commit is about. */
export interface OffsetKey {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

/** What was committed. */
export interface OffsetValue {
  readonly offset: number;
  readonly metadata: string | null;
  readonly commitTimestamp: number;
}

/** Encodes a key. */
export function encodeOffsetKey(key: OffsetKey): Uint8Array {
  return encodeBody((writer) => {
    writer.u16(OFFSET_RECORD_VERSION);
    writer.string(key.group);
    writer.string(key.topic);
    writer.i32(key.partition);
  });
}

/** Encodes a value. */
export function encodeOffsetValue(value: OffsetValue): Uint8Array {
  return encodeBody((writer) => {
    writer.u16(OFFSET_RECORD_VERSION);
    writer.i64(value.offset);
    writer.nullableString(value.metadata);
    writer.i64(value.commitTimestamp);
  });
}

/** Decodes a key; throws INVALID_REQUEST (a SluiceError) on malformed bytes or an unknown version. */
export function decodeOffsetKey(bytes: Uint8Array): OffsetKey {
  return decodeBody(bytes, 'offset commit key', (reader) => {
    const version = reader.u16('version');
    if (version !== OFFSET_RECORD_VERSION) throw new SluiceError('CORRUPT_MESSAGE', `offset commit key version ${version}`);
    return { group: reader.string('group'), topic: reader.string('topic'), partition: reader.i32('partition') };
  });
}

/** Decodes a value. */
export function decodeOffsetValue(bytes: Uint8Array): OffsetValue {
  return decodeBody(bytes, 'offset commit value', (reader) => {
    const version = reader.u16('version');
    if (version !== OFFSET_RECORD_VERSION) throw new SluiceError('CORRUPT_MESSAGE', `offset commit value version ${version}`);
    return { offset: reader.i64('offset'), metadata: reader.nullableString('metadata'), commitTimestamp: reader.i64('commitTimestamp') };
  });
}

/**
 * The `__consumer_offsets` partition of a group: Java's String.hashCode of the group id, made
 * non-negative as Kafka's Utils.abs does, modulo the partition count, as Kafka places groups.
 */
export function offsetsPartitionFor(group: string, partitionCount: number): number {
  let hash = 0;
  for (let i = 0; i < group.length; i++) hash = (Math.imul(31, hash) + group.charCodeAt(i)) | 0;
  // Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE maps to 0.
  return (hash === -(2 ** 31) ? 0 : Math.abs(hash)) % partitionCount;
}
