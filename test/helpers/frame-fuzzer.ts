import { ERROR_CODES } from '../../src/errors/index.js';
import { API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_ENCODERS, encodeFrame, type RequestByApiKey } from '../../src/protocol/index.js';
import {
  ATTRIBUTES_POSITION, BASE_SEQUENCE_POSITION, BASE_TIMESTAMP_POSITION, BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION, CRC_POSITION,
  LAST_OFFSET_DELTA_POSITION, LOG_OVERHEAD_BYTES, MAGIC_POSITION, PRODUCER_ID_POSITION, RECORD_COUNT_POSITION, crc32c, encodeRecordBatch,
} from '../../src/record/index.js';

/**
 * Seeded bad input for a broker: valid requests of every API, then mutated at the frame level
 * (byte flips, truncation, trailing bytes, lengths and counts overwritten, unknown apiKeys and
 * apiVersions, wrong frame kinds, text and empty and oversized messages) or inside the record
 * batches of a Produce (CRC, lengths, magic, compression, counts). Each message carries what a
 * broker that follows docs/protocol.md must do with it: a close code, an error code, or — where
 * a mutation may or may not keep the frame valid — any documented outcome.
 *
 * Every record value a Produce carries starts with TAG_PREFIX and is unique, so the records
 * found in the log afterwards can be traced to the request that carried them.
 */

export const TAG_PREFIX = 'fz|';

const CODE = {
  corrupt: ERROR_CODES.CORRUPT_MESSAGE.code,
  tooLarge: ERROR_CODES.MESSAGE_TOO_LARGE.code,
  invalidRequest: ERROR_CODES.INVALID_REQUEST.code,
  unsupportedVersion: ERROR_CODES.UNSUPPORTED_VERSION.code,
  compression: ERROR_CODES.UNSUPPORTED_COMPRESSION_TYPE.code,
  invalidRecord: ERROR_CODES.INVALID_RECORD.code,
} as const;

/** What the broker must do with a message. */
export type Expectation =
  /** Close the connection with one of these codes (and send no response). */
  | { readonly kind: 'close'; readonly codes: readonly number[] }
  /** Answer with one of these codes in the response header. */
  | { readonly kind: 'error'; readonly codes: readonly number[] }
  /** Answer a Produce with header code 0 and one of these codes for every partition. */
  | { readonly kind: 'partitionError'; readonly codes: readonly number[] }
  /** Answer (or, for acks 0, stay silent) without closing; any documented code. */
  | { readonly kind: 'answer' }
  /** Any documented error code or 0, or a documented close code. */
  | { readonly kind: 'documented' };

export interface FuzzMessage {
  readonly category: string;
  /** Binary frame bytes, or a string sent as a text message. */
  readonly payload: Uint8Array | string;
  readonly expect: Expectation;
}

/** The broker and topic the messages are aimed at. */
export interface FuzzTarget {
  readonly topic: string;
  readonly partitionCount: number;
  readonly maxFrameBytes: number;
  readonly batchBytesMax: number;
}

type Category =
  | 'valid' | 'byteFlips' | 'truncatedBody' | 'shortFrame' | 'emptyMessage' | 'trailingBytes' | 'wrongLength' | 'hugeArrayCount'
  | 'unknownApiKey' | 'badApiVersion' | 'badKind' | 'textMessage' | 'oversized' | 'randomBytes' | 'damagedBatch';

const CATEGORY_WEIGHTS: ReadonlyArray<readonly [Category, number]> = [
  ['valid', 8], ['byteFlips', 18], ['truncatedBody', 7], ['shortFrame', 2], ['emptyMessage', 1], ['trailingBytes', 4],
  ['wrongLength', 12], ['hugeArrayCount', 5], ['unknownApiKey', 3], ['badApiVersion', 3], ['badKind', 3], ['textMessage', 1],
  ['oversized', 1], ['randomBytes', 2], ['damagedBatch', 22],
];
const WEIGHT_TOTAL = CATEGORY_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

// Values that break length and count fields at their edges.
const INTERESTING_U32 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fffe];
const INTERESTING_U16 = [0, 1, 0x7fff, 0x8000, 0xffff, 0xfffe];

const encoder = new TextEncoder();
/** Every apiKey from here up is unknown to the broker. */
const FIRST_UNKNOWN_API_KEY = Math.max(...Object.values(ApiKey)) + 1;

interface BaseRequest {
  readonly apiKey: ApiKey;
  readonly body: Uint8Array;
}

export class FrameFuzzer {
  private tagCount = 0;
  private freshTopicCount = 0;
  /** Subscription ids this connection was given, for Credit and Unsubscribe. */
  readonly subscriptionIds: number[] = [];
  /** Topics this fuzzer created, which it may later delete. */
  private readonly freshTopics: string[] = [];
  /** How many messages of each category were made. */
  readonly categoryCounts = new Map<string, number>();

  constructor(private readonly random: () => number, private readonly target: FuzzTarget, private readonly name: string) {}

  /** The next message; a frame's correlationId is `correlationId` unless a mutation changed it. */
  next(correlationId: number): FuzzMessage {
    const message = this.make(this.pickCategory(), correlationId);
    this.categoryCounts.set(message.category, (this.categoryCounts.get(message.category) ?? 0) + 1);
    return message;
  }

  /** A valid request frame of `apiKey` (for probes and pre-handshake checks). */
  frame(apiKey: ApiKey, correlationId: number, body: Uint8Array, kind: number = FrameKind.request, apiVersion = API_VERSION): Uint8Array {
    const frame = encodeFrame({ kind: FrameKind.request, apiKey: 0, apiVersion: 0, correlationId }, body);
    const view = new DataView(frame.buffer, frame.byteOffset);
    view.setUint8(0, kind);
    view.setUint8(1, apiKey);
    view.setUint16(2, apiVersion);
    return frame;
  }

  private make(category: Category, correlationId: number): FuzzMessage {
    switch (category) {
      case 'valid': return this.valid(correlationId);
      case 'byteFlips': return this.byteFlips(correlationId);
      case 'truncatedBody': return this.truncatedBody(correlationId);
      case 'shortFrame': return { category, payload: this.randomBytesOf(1 + this.int(7), 1), expect: close(1002) };
      case 'emptyMessage': return { category, payload: new Uint8Array(0), expect: close(1002) };
      case 'trailingBytes': return this.trailingBytes(correlationId);
      case 'wrongLength': return this.wrongLength(correlationId);
      case 'hugeArrayCount': return this.hugeArrayCount(correlationId);
      case 'unknownApiKey': return this.unknownApiKey(correlationId);
      case 'badApiVersion': return this.badApiVersion(correlationId);
      case 'badKind': return this.badKind(correlationId);
      case 'textMessage': return { category, payload: this.pick(['hello', '{"apiKey":1}', '', '\u0001\u0000\u0000\u0001']), expect: close(1003) };
      case 'oversized': return this.oversized(correlationId);
      case 'randomBytes': return { category, payload: this.randomBytesOf(this.int(200)), expect: { kind: 'documented' } };
      case 'damagedBatch': return this.damagedBatch(correlationId);
    }
  }

  private valid(correlationId: number): FuzzMessage {
    const base = this.baseRequest();
    return { category: `valid:${base.apiKey}`, payload: this.frame(base.apiKey, correlationId, base.body), expect: { kind: 'answer' } };
  }

  private byteFlips(correlationId: number): FuzzMessage {
    const base = this.baseRequest();
    const frame = this.frame(base.apiKey, correlationId, base.body);
    const flips = 1 + this.int(4);
    for (let i = 0; i < flips; i++) {
      const at = this.int(frame.length);
      frame[at] = this.chance(0.5) ? frame[at]! ^ (1 << this.int(8)) : this.int(256);
    }
    return { category: 'byteFlips', payload: frame, expect: { kind: 'documented' } };
  }

  // A body cut short can never decode: the decoder reads the same fields as for the whole body,
  // which it consumes exactly, so it runs off the end of any strict prefix.
  private truncatedBody(correlationId: number): FuzzMessage {
    const base = this.nonEmptyBaseRequest();
    const frame = this.frame(base.apiKey, correlationId, base.body);
    return { category: 'truncatedBody', payload: frame.subarray(0, 8 + this.int(base.body.length)), expect: error(CODE.invalidRequest) };
  }

  private trailingBytes(correlationId: number): FuzzMessage {
    const base = this.baseRequest();
    const body = concat(base.body, this.randomBytesOf(1 + this.int(8)));
    return { category: 'trailingBytes', payload: this.frame(base.apiKey, correlationId, body), expect: error(CODE.invalidRequest) };
  }

  // A length or count field (or any 2 or 4 bytes that may be one) set to an edge value.
  private wrongLength(correlationId: number): FuzzMessage {
    if (this.chance(0.3)) return this.wrongRecordsLength(correlationId);
    const base = this.nonEmptyBaseRequest();
    const body = base.body.slice();
    const view = new DataView(body.buffer);
    if (body.length >= 4 && this.chance(0.5)) view.setUint32(this.int(body.length - 3), this.pick(INTERESTING_U32));
    else if (body.length >= 2) view.setUint16(this.int(body.length - 1), this.pick(INTERESTING_U16));
    else body[0] = 0xff;
    return { category: 'wrongLength', payload: this.frame(base.apiKey, correlationId, body), expect: { kind: 'documented' } };
  }

  // The `records bytes` length of a one-partition Produce, off by a little or a lot: the body then
  // either runs out or has bytes left over, both INVALID_REQUEST.
  private wrongRecordsLength(correlationId: number): FuzzMessage {
    const request = this.produceRequest(1, 1);
    const body = REQUEST_ENCODERS[ApiKey.Produce](request);
    const at = recordsLengthPosition(request.topics[0]!.name);
    // An encoded body is a view with room before it for the frame header: offsets are from its start.
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const actual = view.getUint32(at);
    const wrong = this.pick([actual + 1, actual - 1, actual + 1 + this.int(100), Math.max(0, actual - 1 - this.int(60)), 0xffff_ffff, 0x7fff_ffff]);
    view.setUint32(at, wrong >>> 0);
    return { category: 'wrongRecordsLength', payload: this.frame(ApiKey.Produce, correlationId, body), expect: error(CODE.invalidRequest) };
  }

  // An array count no body could hold: refused before anything is allocated.
  private hugeArrayCount(correlationId: number): FuzzMessage {
    const count = this.pick([0xffff_ffff, 0x7fff_ffff, 0x1000_0000, 0x0100_0000]);
    const choice = this.int(4);
    let apiKey: ApiKey;
    let body: Uint8Array;
    let at: number;
    if (choice === 0) {
      const request = this.produceRequest(1, 1);
      [apiKey, body] = [ApiKey.Produce, REQUEST_ENCODERS[ApiKey.Produce](request)];
      at = this.chance(0.5) ? 5 : 5 + 4 + 2 + encoder.encode(request.topics[0]!.name).length;
    } else if (choice === 1) {
      [apiKey, body, at] = [ApiKey.Metadata, REQUEST_ENCODERS[ApiKey.Metadata]({ allTopics: false, topics: [this.target.topic] }), 1];
    } else if (choice === 2) {
      [apiKey, body, at] = [ApiKey.Fetch, REQUEST_ENCODERS[ApiKey.Fetch](this.fetchRequest()), 16];
    } else {
      const creates = { topics: [{ name: this.target.topic, partitionCount: 1, replicationFactor: 1 }] };
      [apiKey, body, at] = [ApiKey.CreateTopics, REQUEST_ENCODERS[ApiKey.CreateTopics](creates), 0];
    }
    new DataView(body.buffer, body.byteOffset, body.byteLength).setUint32(at, count);
    return { category: 'hugeArrayCount', payload: this.frame(apiKey, correlationId, body), expect: error(CODE.invalidRequest) };
  }

  private unknownApiKey(correlationId: number): FuzzMessage {
    const apiKey = FIRST_UNKNOWN_API_KEY + this.int(256 - FIRST_UNKNOWN_API_KEY);
    const body = this.chance(0.5) ? this.baseRequest().body : this.randomBytesOf(this.int(64));
    return { category: 'unknownApiKey', payload: this.frame(apiKey as ApiKey, correlationId, body), expect: error(CODE.invalidRequest) };
  }

  private badApiVersion(correlationId: number): FuzzMessage {
    const base = this.baseRequest();
    const apiVersion = this.pick([0, API_VERSION - 1, API_VERSION + 1, 0x100, 0x7fff, 0xffff]);
    return {
      category: 'badApiVersion', payload: this.frame(base.apiKey, correlationId, base.body, FrameKind.request, apiVersion),
      expect: error(CODE.unsupportedVersion),
    };
  }

  private badKind(correlationId: number): FuzzMessage {
    const base = this.baseRequest();
    const kind = this.pick([0, 2, 3, 255, 4 + this.int(250)]);
    return { category: 'badKind', payload: this.frame(base.apiKey, correlationId, base.body, kind), expect: close(1002) };
  }

  // Larger than maxFrameBytes by 1 byte up to 64 KiB: refused (1009) before it is buffered.
  private oversized(correlationId: number): FuzzMessage {
    const frame = new Uint8Array(this.target.maxFrameBytes + 1 + (this.chance(0.3) ? 0 : this.int(64 * 1024)));
    frame.set(this.frame(ApiKey.Produce, correlationId, new Uint8Array(0)));
    return { category: 'oversized', payload: frame, expect: close(1009) };
  }

  private damagedBatch(correlationId: number): FuzzMessage {
    const batches = [this.batch(), ...(this.chance(0.3) ? [this.batch()] : [])];
    const victim = this.chance(0.5) ? batches.length - 1 : 0;
    const damage = this.damage(batches[victim]!, victim === batches.length - 1, batches.length === 1);
    batches[victim] = damage.batch;
    const records = concat(...batches);
    const request: RequestByApiKey[typeof ApiKey.Produce] = {
      acks: this.pick([1, -1]), timeoutMs: 10_000,
      topics: [{ name: this.target.topic, partitions: [{ partition: this.int(this.target.partitionCount), records }] }],
    };
    return {
      category: `damagedBatch:${damage.kind}`, payload: this.frame(ApiKey.Produce, correlationId, REQUEST_ENCODERS[ApiKey.Produce](request)),
      expect: damage.codes === null ? { kind: 'answer' } : { kind: 'partitionError', codes: damage.codes },
    };
  }

  // One kind of damage to one batch; null codes where the batch may still be acceptable.
  // A torn batch must be the last (else the next one's bytes complete it), and an empty one the
  // only one (else the others are a valid request).
  private damage(original: Uint8Array, isLast: boolean, isOnly: boolean): { kind: string; batch: Uint8Array; codes: readonly number[] | null } {
    const batch = original.slice();
    const view = new DataView(batch.buffer);
    const kinds = ['crc', 'crcField', 'magic', 'lengthHuge', 'lengthSmall', 'lengthOff', 'compression', 'recordCount', 'lastOffsetDelta',
      'recordLength', 'unsafeTimestamp', 'control', 'transactional', 'producer', ...(isLast ? ['torn'] : []), ...(isOnly ? ['empty'] : [])];
    const kind = this.pick(kinds);
    switch (kind) {
      case 'crc': batch[ATTRIBUTES_POSITION + this.int(batch.length - ATTRIBUTES_POSITION)]! ^= 1 << this.int(8); return { kind, batch, codes: [CODE.corrupt] };
      case 'crcField': batch[CRC_POSITION + this.int(4)]! ^= 1 << this.int(8); return { kind, batch, codes: [CODE.corrupt] };
      case 'magic': view.setInt8(MAGIC_POSITION, this.pick([0, 1, 3, -1, 127])); return { kind, batch, codes: [CODE.corrupt] };
      case 'lengthHuge':
        view.setInt32(BATCH_LENGTH_POSITION, this.target.batchBytesMax - LOG_OVERHEAD_BYTES + 1 + this.int(1 << 20));
        return { kind, batch, codes: [CODE.tooLarge] };
      case 'lengthSmall': view.setInt32(BATCH_LENGTH_POSITION, this.pick([0, -1, -0x8000_0000, 10, BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES - 1])); return { kind, batch, codes: [CODE.corrupt] };
      case 'lengthOff': view.setInt32(BATCH_LENGTH_POSITION, view.getInt32(BATCH_LENGTH_POSITION) + this.pick([1, -1, 2 + this.int(9), -2 - this.int(9)])); return { kind, batch, codes: [CODE.corrupt] };
      case 'compression': view.setInt16(ATTRIBUTES_POSITION, view.getInt16(ATTRIBUTES_POSITION) | (1 + this.int(7))); return { kind, batch: withCrc(batch), codes: [CODE.compression] };
      case 'recordCount': {
        const count = view.getInt32(RECORD_COUNT_POSITION);
        view.setInt32(RECORD_COUNT_POSITION, this.pick([0, -1, count + 1, count - 1 || 2, 0x7fff_ffff]));
        return { kind, batch: withCrc(batch), codes: [CODE.invalidRecord] };
      }
      case 'lastOffsetDelta': view.setInt32(LAST_OFFSET_DELTA_POSITION, view.getInt32(LAST_OFFSET_DELTA_POSITION) + this.pick([1, -1, 1000])); return { kind, batch: withCrc(batch), codes: [CODE.invalidRecord] };
      // The first record's length varint (zigzag, one byte for these small records) off by one.
      case 'recordLength': batch[BATCH_HEADER_BYTES] = batch[BATCH_HEADER_BYTES]! + this.pick([2, -2]); return { kind, batch: withCrc(batch), codes: [CODE.invalidRecord] };
      case 'unsafeTimestamp': view.setBigInt64(BASE_TIMESTAMP_POSITION, 1n << 60n); return { kind, batch: withCrc(batch), codes: [CODE.corrupt] };
      case 'control': view.setInt16(ATTRIBUTES_POSITION, view.getInt16(ATTRIBUTES_POSITION) | 0x20); return { kind, batch: withCrc(batch), codes: null };
      case 'transactional': view.setInt16(ATTRIBUTES_POSITION, view.getInt16(ATTRIBUTES_POSITION) | 0x10); return { kind, batch: withCrc(batch), codes: null };
      case 'producer':
        view.setBigInt64(PRODUCER_ID_POSITION, BigInt(1 + this.int(0x7fff_ffff)));
        view.setInt32(BASE_SEQUENCE_POSITION, this.pick([0, 1, 5, 0x7fff_ffff]));
        return { kind, batch: withCrc(batch), codes: null };
      case 'torn': return { kind, batch: batch.subarray(0, 1 + this.int(batch.length - 1)), codes: [CODE.corrupt] };
      default: return { kind, batch: new Uint8Array(0), codes: [CODE.invalidRecord] };
    }
  }

  private baseRequest(): BaseRequest {
    const roll = this.int(100);
    const encode = <K extends ApiKey>(apiKey: K, request: RequestByApiKey[K]): BaseRequest =>
      ({ apiKey, body: (REQUEST_ENCODERS[apiKey] as (value: RequestByApiKey[K]) => Uint8Array)(request) });
    const topic = this.target.topic;
    const partition = this.int(this.target.partitionCount);
    if (roll < 40) return encode(ApiKey.Produce, this.produceRequest());
    if (roll < 52) return encode(ApiKey.Fetch, this.fetchRequest());
    if (roll < 57) return encode(ApiKey.Metadata, { allTopics: this.chance(0.3), topics: [topic, 'fz-absent'] });
    if (roll < 62) return encode(ApiKey.ListOffsets, { partitions: [{ topic, partition, spec: this.int(3), timestamp: 1_700_000_000_000 + this.int(10) }] });
    if (roll < 67) return encode(ApiKey.Subscribe, { topic, partition, offset: this.int(3), creditBytes: this.pick([0, 512, 4096]) });
    if (roll < 71) return encode(ApiKey.Credit, { subscriptionId: this.knownSubscriptionId(), creditBytes: this.pick([0, 1024, 4096]) });
    if (roll < 74) return encode(ApiKey.Unsubscribe, { subscriptionId: this.knownSubscriptionId(true) });
    if (roll < 77) return encode(ApiKey.InitProducerId, {});
    if (roll < 82) {
      return encode(ApiKey.OffsetCommit, {
        group: `fz-group-${this.int(3)}`, generationId: this.pick([-1, -1, -1, 3]), memberId: '',
        offsets: [{ topic, partition, offset: this.int(100), metadata: this.pick([null, 'meta']) }],
      });
    }
    if (roll < 86) return encode(ApiKey.OffsetFetch, { group: `fz-group-${this.int(3)}`, partitions: [{ topic, partition }] });
    if (roll < 92) return encode(ApiKey.CreateTopics, { topics: [this.newTopic()] });
    if (roll < 95) return encode(ApiKey.DeleteTopics, { names: [this.topicToDelete()] });
    return encode(ApiKey.Handshake, { protocolVersion: PROTOCOL_VERSION, clientId: `fuzz-${this.name}` });
  }

  private topicToDelete(): string {
    if (this.freshTopics.length > 0 && this.chance(0.5)) return this.freshTopics.shift()!;
    return this.pick(['fz-absent', '__consumer_offsets', 'bad/name']);
  }

  // Only InitProducerId has an empty body, so a few draws are enough; the fallback is a Produce.
  private nonEmptyBaseRequest(): BaseRequest {
    for (let attempt = 0; attempt < 16; attempt++) {
      const base = this.baseRequest();
      if (base.body.length > 0) return base;
    }
    return { apiKey: ApiKey.Produce, body: REQUEST_ENCODERS[ApiKey.Produce](this.produceRequest()) };
  }

  private newTopic(): { name: string; partitionCount: number; replicationFactor: number } {
    if (this.freshTopicCount < 3 && this.chance(0.1)) {
      const name = `fz-fresh-${this.name}-${this.freshTopicCount++}`;
      this.freshTopics.push(name);
      return { name, partitionCount: 1, replicationFactor: 1 };
    }
    return {
      name: this.pick([this.target.topic, 'bad/name', '', '.', '..', '__fz', 'x'.repeat(250)]),
      partitionCount: this.pick([1, 0, -1, 2, 1_000_000]), replicationFactor: this.pick([1, 1, 2, 0]),
    };
  }

  private produceRequest(acks = this.pick([1, 1, 1, 1, 1, 1, -1, -1, 0]), entries = 1 + this.int(2)): RequestByApiKey[typeof ApiKey.Produce] {
    const partitions = Array.from({ length: entries }, () => ({
      partition: this.int(this.target.partitionCount),
      records: concat(...Array.from({ length: 1 + this.int(2) }, () => this.batch())),
    }));
    return { acks, timeoutMs: 10_000, topics: [{ name: this.target.topic, partitions }] };
  }

  private fetchRequest(): RequestByApiKey[typeof ApiKey.Fetch] {
    return {
      replicaId: this.pick([-1, -1, -1, 0]), maxWaitMs: this.pick([0, 0, 0, 50]), minBytes: this.pick([0, 1]), maxBytes: this.pick([1, 1024, 65_536]),
      partitions: [{ topic: this.target.topic, partition: this.int(this.target.partitionCount), fetchOffset: this.int(50), partitionMaxBytes: this.pick([1024, 65_536]) }],
    };
  }

  /** One valid batch of 1 to 5 records whose values are unique tags. */
  private batch(): Uint8Array {
    const tag = `${TAG_PREFIX}${this.name}.${this.tagCount++}`;
    const count = 1 + this.int(5);
    return encodeRecordBatch({
      records: Array.from({ length: count }, (_, i) => ({
        key: this.chance(0.3) ? null : encoder.encode(`k${i}`),
        value: encoder.encode(`${tag}:${i}:${'.'.repeat(this.int(100))}`),
        headers: this.chance(0.2) ? [{ key: 'h', value: encoder.encode('v') }] : [],
        timestamp: 1_700_000_000_000 + i,
      })),
    });
  }

  private knownSubscriptionId(remove = false): number {
    if (this.subscriptionIds.length === 0 || this.chance(0.2)) return this.int(100_000);
    const index = this.int(this.subscriptionIds.length);
    return remove ? this.subscriptionIds.splice(index, 1)[0]! : this.subscriptionIds[index]!;
  }

  private pickCategory(): Category {
    let roll = this.random() * WEIGHT_TOTAL;
    for (const [category, weight] of CATEGORY_WEIGHTS) {
      roll -= weight;
      if (roll < 0) return category;
    }
    return 'valid';
  }

  private randomBytesOf(length: number, firstByte: number | null = null): Uint8Array {
    const bytes = Uint8Array.from({ length }, () => this.int(256));
    if (firstByte !== null && length > 0) bytes[0] = firstByte;
    return bytes;
  }

  private int(bound: number): number {
    return Math.floor(this.random() * bound);
  }

  private chance(probability: number): boolean {
    return this.random() < probability;
  }

  private pick<T>(choices: readonly T[]): T {
    return choices[this.int(choices.length)]!;
  }
}

/** Where the `records` length of the first partition of a one-topic Produce body sits. */
export function recordsLengthPosition(topicName: string): number {
  // acks i8 | timeoutMs i32 | topics count u32 | name string | partitions count u32 | partition i32
  return 1 + 4 + 4 + 2 + encoder.encode(topicName).length + 4 + 4;
}

function close(code: number): Expectation {
  return { kind: 'close', codes: [code] };
}

function error(code: number): Expectation {
  return { kind: 'error', codes: [code] };
}

function withCrc(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(CRC_POSITION, crc32c(batch.subarray(ATTRIBUTES_POSITION)));
  return batch;
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
