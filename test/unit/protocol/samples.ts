/**
 * Representative and edge-value messages of every API, shared by the protocol tests: round trip,
 * malformed-input and fuzz tests all start from these encodings. Edge values: empty arrays, null
 * strings, strings of exactly stringBytesMax bytes (ASCII and multi-byte), multi-byte UTF-8 and a
 * leading U+FEFF, i64 at ±(2^53-1), every integer type at its bounds, real RecordBatch v2 bytes.
 * Each list also holds a "minimal" sample whose last array is made of the smallest possible
 * elements and ends the body exactly, so an element size bound that is one byte too large fails.
 */
import {
  decodeCreateTopicsRequest, decodeCreateTopicsResponse, decodeCreditRequest, decodeCreditResponse,
  decodeDeleteTopicsRequest, decodeDeleteTopicsResponse, decodeFetchRequest, decodeFetchResponse,
  decodeHandshakeRequest, decodeHandshakeResponse, decodeInitProducerIdRequest, decodeInitProducerIdResponse,
  decodeListOffsetsRequest, decodeListOffsetsResponse, decodeMetadataRequest, decodeMetadataResponse,
  decodeOffsetCommitRequest, decodeOffsetCommitResponse, decodeOffsetFetchRequest, decodeOffsetFetchResponse,
  decodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochResponse, encodeOffsetForLeaderEpochRequest,
  encodeOffsetForLeaderEpochResponse, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse,
  decodeProduceRequest, decodeProduceResponse, decodeSubscribePush, decodeSubscribeRequest, decodeSubscribeResponse,
  decodeUnsubscribeRequest, decodeUnsubscribeResponse, encodeCreateTopicsRequest, encodeCreateTopicsResponse,
  encodeCreditRequest, encodeCreditResponse, encodeDeleteTopicsRequest, encodeDeleteTopicsResponse,
  encodeFetchRequest, encodeFetchResponse, encodeHandshakeRequest, encodeHandshakeResponse,
  encodeInitProducerIdRequest, encodeInitProducerIdResponse, encodeListOffsetsRequest, encodeListOffsetsResponse,
  encodeMetadataRequest, encodeMetadataResponse, encodeOffsetCommitRequest, encodeOffsetCommitResponse,
  encodeOffsetFetchRequest, encodeOffsetFetchResponse, encodeProduceRequest, encodeProduceResponse,
  encodeSubscribePush, encodeSubscribeRequest, encodeSubscribeResponse, encodeUnsubscribeRequest,
  encodeUnsubscribeResponse, ApiKey, STRING_BYTES_MAX,
  type CreateTopicsRequest, type CreateTopicsResponse, type CreditRequest, type CreditResponse,
  type DeleteTopicsRequest, type DeleteTopicsResponse, type FetchRequest, type FetchResponse,
  type HandshakeRequest, type HandshakeResponse, type HeaderOnlyResponse, type InitProducerIdRequest,
  type InitProducerIdResponse, type ListOffsetsRequest, type ListOffsetsResponse, type MetadataRequest,
  type MetadataResponse, type OffsetCommitRequest, type OffsetCommitResponse, type OffsetFetchRequest,
  type OffsetFetchResponse, type OrHeaderOnly, type ProduceRequest, type ProduceResponse, type SubscribePush,
  type SubscribeRequest, type SubscribeResponse, type UnsubscribeRequest, type UnsubscribeResponse,
} from '../../../src/protocol/index.js';
import { encodeRecordBatch } from '../../../src/record/index.js';

export const I64_MAX = Number.MAX_SAFE_INTEGER;
export const I64_MIN = -Number.MAX_SAFE_INTEGER;
export const U32_MAX = 0xffff_ffff;
export const I32_MAX = 0x7fff_ffff;
export const I32_MIN = -0x8000_0000;
export const I16_MAX = 0x7fff;
export const I16_MIN = -0x8000;

/** Exactly stringBytesMax bytes of ASCII. */
export const LONGEST_ASCII = 'a'.repeat(STRING_BYTES_MAX);
/** Exactly stringBytesMax bytes of UTF-8: 10,922 three-byte '€' (32,766 bytes) and one 'z'. */
export const LONGEST_MULTIBYTE = '€'.repeat(10_922) + 'z';
/** 2-, 3- and 4-byte UTF-8 sequences and a leading byte-order mark, which must survive. */
export const MULTIBYTE = '\uFEFFтема-主题-🚀-é';

const utf8 = new TextEncoder();
const TIMESTAMP_MS = 1_700_000_000_000;

/** Two real RecordBatch v2 batches back to back, as a producer would send them. */
export const TWO_BATCHES = concat(
  encodeRecordBatch({
    records: [
      { key: utf8.encode('k1'), value: utf8.encode('v1'), headers: [{ key: 'h', value: null }], timestamp: TIMESTAMP_MS },
      { key: null, value: utf8.encode('€uro'), headers: [], timestamp: TIMESTAMP_MS + 5 },
    ],
  }),
  encodeRecordBatch({
    records: [{ key: null, value: null, headers: [], timestamp: TIMESTAMP_MS + 9 }],
    producer: { producerId: 42n, producerEpoch: 1, baseSequence: 0 },
  }),
);
/** A batch with no records: the smallest possible one (61 bytes). */
export const EMPTY_BATCH = encodeRecordBatch({ records: [] });
const NO_BYTES = new Uint8Array(0);

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let position = 0;
  for (const part of parts) {
    joined.set(part, position);
    position += part.length;
  }
  return joined;
}

/** One body codec, its types erased so that the tests can loop over all of them. */
export interface Codec {
  /** "Produce request", as decoders name themselves in errors. */
  readonly name: string;
  readonly apiKey: number;
  readonly direction: 'request' | 'response' | 'push';
  readonly encode: (value: unknown) => Uint8Array;
  readonly decode: (body: Uint8Array) => unknown;
  readonly samples: readonly unknown[];
}

function codec<T>(
  apiKey: number, direction: Codec['direction'], encode: (value: T) => Uint8Array,
  decode: (body: Uint8Array) => unknown, samples: readonly T[],
): Codec {
  const apiName = Object.entries(ApiKey).find(([, key]) => key === apiKey)![0];
  return { name: `${apiName} ${direction}`, apiKey, direction, encode: (value) => encode(value as T), decode, samples };
}

/** A header-only error response: how a broker answers what it could not decode. */
const INVALID: HeaderOnlyResponse = { headerOnly: true, errorCode: 42, errorMessage: 'Produce request: topics[0] ...' };
const UNSUPPORTED: HeaderOnlyResponse = { headerOnly: true, errorCode: 35, errorMessage: null };
const OK = { headerOnly: false, errorCode: 0, errorMessage: null } as const;
const MINIMAL_PARTITION = { errorCode: 0, partition: 0, leaderId: 0, leaderEpoch: 0, replicas: [], isr: [] };

const handshakeRequests: HandshakeRequest[] = [
  { protocolVersion: 1, clientId: 'sluice-js/0.1.0' },
  { protocolVersion: 0, clientId: '' },
  { protocolVersion: 0xffff, clientId: LONGEST_ASCII },
  { protocolVersion: 1, clientId: LONGEST_MULTIBYTE },
  { protocolVersion: 1, clientId: MULTIBYTE },
];
const handshakeResponses: OrHeaderOnly<HandshakeResponse>[] = [
  { ...OK, protocolVersion: 1, brokerId: 0, maxFrameBytes: 8 * 1024 * 1024, maxInFlightRequestsPerConnection: 256, creditBytesMax: 16 * 1024 * 1024 },
  { headerOnly: false, errorCode: 35, errorMessage: 'speaks 1', protocolVersion: 1, brokerId: I32_MIN, maxFrameBytes: U32_MAX, maxInFlightRequestsPerConnection: 0, creditBytesMax: U32_MAX },
  { ...OK, errorMessage: '', protocolVersion: 0xffff, brokerId: I32_MAX, maxFrameBytes: 0, maxInFlightRequestsPerConnection: U32_MAX, creditBytesMax: 0 },
  UNSUPPORTED,
];

const metadataRequests: MetadataRequest[] = [
  { allTopics: true, topics: [] },
  { allTopics: false, topics: ['orders', MULTIBYTE, ''] },
  { allTopics: true, topics: ['ignored but carried'] },
  { allTopics: false, topics: [LONGEST_ASCII, LONGEST_MULTIBYTE] },
  { allTopics: false, topics: ['', '', ''] },
];
const metadataResponses: OrHeaderOnly<MetadataResponse>[] = [
  { ...OK, brokers: [], controllerId: -1, topics: [] },
  {
    ...OK,
    brokers: [{ brokerId: 0, host: 'localhost', port: 9092 }, { brokerId: I32_MAX, host: '', port: 0xffff }],
    controllerId: I32_MAX,
    topics: [
      {
        errorCode: 0, name: 'orders', partitions: [
          { errorCode: 0, partition: 0, leaderId: 0, leaderEpoch: 3, replicas: [0, 1, 2], isr: [0, 2] },
          { errorCode: 5, partition: I32_MAX, leaderId: -1, leaderEpoch: -1, replicas: [], isr: [] },
        ],
      },
      { errorCode: 3, name: MULTIBYTE, partitions: [] },
      { errorCode: I16_MIN, name: '', partitions: [{ errorCode: I16_MAX, partition: I32_MIN, leaderId: I32_MIN, leaderEpoch: I32_MAX, replicas: [I32_MIN, I32_MAX], isr: [I32_MAX] }] },
    ],
  },
  INVALID,
  { ...OK, brokers: [{ brokerId: 0, host: '', port: 0 }], controllerId: I32_MIN, topics: [{ errorCode: 0, name: '', partitions: [MINIMAL_PARTITION, MINIMAL_PARTITION] }] },
];

const createTopicsRequests: CreateTopicsRequest[] = [
  { topics: [] },
  { topics: [{ name: 'orders', partitionCount: 12, replicationFactor: 3, minInsyncReplicas: 2 }, { name: '', partitionCount: 0, replicationFactor: 0, minInsyncReplicas: 0 }] },
  { topics: [{ name: LONGEST_MULTIBYTE, partitionCount: I32_MIN, replicationFactor: I16_MIN, minInsyncReplicas: I16_MIN }, { name: MULTIBYTE, partitionCount: I32_MAX, replicationFactor: I16_MAX, minInsyncReplicas: I16_MAX }] },
  { topics: [{ name: '', partitionCount: 0, replicationFactor: 0, minInsyncReplicas: -1 }, { name: '', partitionCount: 0, replicationFactor: 0, minInsyncReplicas: -1 }] },
];
const createTopicsResponses: OrHeaderOnly<CreateTopicsResponse>[] = [
  { ...OK, results: [] },
  {
    ...OK, results: [
      { name: 'orders', errorCode: 0, errorMessage: null },
      { name: '__internal', errorCode: 17, errorMessage: 'names starting with __ are internal' },
      { name: '', errorCode: 36, errorMessage: '' },
      { name: MULTIBYTE, errorCode: 37, errorMessage: LONGEST_MULTIBYTE },
    ],
  },
  INVALID,
  { ...OK, results: [{ name: '', errorCode: 0, errorMessage: null }, { name: '', errorCode: 0, errorMessage: null }] },
];

const deleteTopicsRequests: DeleteTopicsRequest[] = [
  { names: [] },
  { names: ['orders', '', MULTIBYTE, LONGEST_ASCII] },
  { names: ['', ''] },
];
const deleteTopicsResponses: OrHeaderOnly<DeleteTopicsResponse>[] = [
  { ...OK, results: [] },
  { headerOnly: false, errorCode: 7, errorMessage: 'timed out', results: [{ name: 'gone', errorCode: 3, errorMessage: null }, { name: '', errorCode: 0, errorMessage: MULTIBYTE }] },
  UNSUPPORTED,
  { ...OK, results: [{ name: '', errorCode: 0, errorMessage: null }] },
];

const produceRequests: ProduceRequest[] = [
  { acks: -1, timeoutMs: 30_000, topics: [{ name: 'orders', partitions: [{ partition: 0, records: TWO_BATCHES }, { partition: 7, records: EMPTY_BATCH }] }] },
  { acks: 0, timeoutMs: 0, topics: [] },
  { acks: 127, timeoutMs: I32_MIN, topics: [{ name: '', partitions: [] }, { name: MULTIBYTE, partitions: [{ partition: I32_MAX, records: NO_BYTES }] }] },
  { acks: -128, timeoutMs: I32_MAX, topics: [{ name: LONGEST_ASCII, partitions: [{ partition: I32_MIN, records: TWO_BATCHES }] }] },
  { acks: 1, timeoutMs: 0, topics: [{ name: '', partitions: [{ partition: 0, records: NO_BYTES }, { partition: 0, records: NO_BYTES }] }] },
];
const produceResponses: OrHeaderOnly<ProduceResponse>[] = [
  { ...OK, topics: [] },
  {
    ...OK, topics: [
      { name: 'orders', partitions: [{ partition: 0, errorCode: 0, baseOffset: 0, logStartOffset: 0 }, { partition: 1, errorCode: 2, baseOffset: -1, logStartOffset: I64_MAX }] },
      { name: '', partitions: [] },
      { name: MULTIBYTE, partitions: [{ partition: I32_MIN, errorCode: I16_MIN, baseOffset: I64_MIN, logStartOffset: I64_MIN }, { partition: 2, errorCode: 0, baseOffset: 2 ** 32, logStartOffset: -(2 ** 32) }] },
    ],
  },
  INVALID,
  { ...OK, topics: [{ name: '', partitions: [{ partition: 0, errorCode: 0, baseOffset: 0, logStartOffset: 0 }] }] },
];

const fetchRequests: FetchRequest[] = [
  { replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, partitions: [{ topic: 'orders', partition: 0, currentLeaderEpoch: -1, fetchOffset: 42, partitionMaxBytes: 1 << 20 }] },
  { replicaId: I32_MAX, maxWaitMs: I32_MIN, minBytes: I32_MAX, maxBytes: I32_MIN, partitions: [] },
  {
    replicaId: 2, maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [
      { topic: '', partition: I32_MIN, currentLeaderEpoch: I32_MIN, fetchOffset: I64_MIN, partitionMaxBytes: I32_MIN },
      { topic: MULTIBYTE, partition: I32_MAX, currentLeaderEpoch: I32_MAX, fetchOffset: I64_MAX, partitionMaxBytes: I32_MAX },
    ],
  },
  { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [{ topic: '', partition: 0, currentLeaderEpoch: 0, fetchOffset: 0, partitionMaxBytes: 0 }] },
];
const fetchResponses: OrHeaderOnly<FetchResponse>[] = [
  { ...OK, partitions: [] },
  {
    ...OK, partitions: [
      { topic: 'orders', partition: 0, errorCode: 0, highWatermark: 3, logStartOffset: 0, records: TWO_BATCHES },
      { topic: 'orders', partition: 1, errorCode: 1, highWatermark: I64_MAX, logStartOffset: I64_MIN, records: NO_BYTES },
      { topic: LONGEST_MULTIBYTE, partition: I32_MAX, errorCode: I16_MAX, highWatermark: -1, logStartOffset: 2 ** 40, records: EMPTY_BATCH },
    ],
  },
  INVALID,
  { ...OK, partitions: [{ topic: '', partition: 0, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: NO_BYTES }] },
];

const subscribeRequests: SubscribeRequest[] = [
  { topic: 'orders', partition: 0, offset: 0, creditBytes: 16 * 1024 * 1024 },
  { topic: '', partition: I32_MIN, offset: I64_MIN, creditBytes: 0 },
  { topic: MULTIBYTE, partition: I32_MAX, offset: I64_MAX, creditBytes: U32_MAX },
];
const subscribeResponses: OrHeaderOnly<SubscribeResponse>[] = [
  { ...OK, subscriptionId: 1, highWatermark: 100 },
  { headerOnly: false, errorCode: 1, errorMessage: MULTIBYTE, subscriptionId: U32_MAX, highWatermark: I64_MIN },
  { ...OK, subscriptionId: 0, highWatermark: I64_MAX },
  UNSUPPORTED,
];
const subscribePushes: SubscribePush[] = [
  { errorCode: 0, highWatermark: 3, nextOffset: 3, records: TWO_BATCHES },
  { errorCode: 1, highWatermark: I64_MAX, nextOffset: I64_MIN, records: NO_BYTES },
  { errorCode: I16_MIN, highWatermark: -1, nextOffset: 0, records: EMPTY_BATCH },
];

const creditRequests: CreditRequest[] = [
  { subscriptionId: 1, creditBytes: 1 << 20 },
  { subscriptionId: 0, creditBytes: 0 },
  { subscriptionId: U32_MAX, creditBytes: U32_MAX },
];
const creditResponses: OrHeaderOnly<CreditResponse>[] = [
  { ...OK, creditBytes: 16 * 1024 * 1024 },
  { ...OK, errorMessage: LONGEST_ASCII, creditBytes: U32_MAX },
  { headerOnly: false, errorCode: 3, errorMessage: null, creditBytes: 0 },
  INVALID,
];

const unsubscribeRequests: UnsubscribeRequest[] = [{ subscriptionId: 0 }, { subscriptionId: U32_MAX }];
const unsubscribeResponses: UnsubscribeResponse[] = [
  { errorCode: 0, errorMessage: null },
  { errorCode: 3, errorMessage: 'no such subscription' },
  { errorCode: I16_MIN, errorMessage: LONGEST_MULTIBYTE },
  { errorCode: 0, errorMessage: '' },
];

const listOffsetsRequests: ListOffsetsRequest[] = [
  { partitions: [] },
  {
    partitions: [
      { topic: 'orders', partition: 0, spec: 0, timestamp: 0 },
      { topic: 'orders', partition: 1, spec: 1, timestamp: -1 },
      { topic: MULTIBYTE, partition: I32_MAX, spec: 2, timestamp: TIMESTAMP_MS },
      { topic: '', partition: I32_MIN, spec: 255, timestamp: I64_MIN },
    ],
  },
  { partitions: [{ topic: '', partition: 0, spec: 0, timestamp: 0 }, { topic: '', partition: 0, spec: 0, timestamp: 0 }] },
];
const listOffsetsResponses: OrHeaderOnly<ListOffsetsResponse>[] = [
  { ...OK, partitions: [] },
  {
    ...OK, partitions: [
      { topic: 'orders', partition: 0, errorCode: 0, found: true, offset: 17, timestamp: TIMESTAMP_MS },
      { topic: 'orders', partition: 1, errorCode: 0, found: false, offset: -1, timestamp: -1 },
      { topic: LONGEST_ASCII, partition: I32_MIN, errorCode: I16_MAX, found: true, offset: I64_MAX, timestamp: I64_MIN },
    ],
  },
  INVALID,
  { ...OK, partitions: [{ topic: '', partition: 0, errorCode: 0, found: false, offset: 0, timestamp: 0 }] },
];

const initProducerIdRequests: InitProducerIdRequest[] = [{}];
const initProducerIdResponses: OrHeaderOnly<InitProducerIdResponse>[] = [
  { ...OK, producerId: 1000, producerEpoch: 0 },
  { ...OK, producerId: I64_MAX, producerEpoch: I16_MAX },
  { headerOnly: false, errorCode: 15, errorMessage: 'later', producerId: -1, producerEpoch: -1 },
  { headerOnly: true, errorCode: 42, errorMessage: 'InitProducerId is planned, not served' },
];

const offsetCommitRequests: OffsetCommitRequest[] = [
  { group: 'billing', generationId: 3, memberId: 'member-1', offsets: [{ topic: 'orders', partition: 0, offset: 42, metadata: null }] },
  { group: '', generationId: -1, memberId: '', offsets: [] },
  {
    group: MULTIBYTE, generationId: I32_MIN, memberId: LONGEST_ASCII, offsets: [
      { topic: '', partition: I32_MAX, offset: I64_MAX, metadata: '' },
      { topic: MULTIBYTE, partition: I32_MIN, offset: I64_MIN, metadata: LONGEST_MULTIBYTE },
    ],
  },
  { group: '', generationId: 0, memberId: '', offsets: [{ topic: '', partition: 0, offset: 0, metadata: null }] },
];
const offsetCommitResponses: OrHeaderOnly<OffsetCommitResponse>[] = [
  { ...OK, results: [] },
  { ...OK, results: [{ topic: 'orders', partition: 0, errorCode: 0 }, { topic: '', partition: I32_MIN, errorCode: 22 }, { topic: MULTIBYTE, partition: I32_MAX, errorCode: I16_MIN }] },
  INVALID,
  { ...OK, results: [{ topic: '', partition: 0, errorCode: 0 }, { topic: '', partition: 0, errorCode: 0 }] },
];

const offsetFetchRequests: OffsetFetchRequest[] = [
  { group: 'billing', partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }] },
  { group: '', partitions: [] },
  { group: LONGEST_MULTIBYTE, partitions: [{ topic: '', partition: I32_MIN }, { topic: MULTIBYTE, partition: I32_MAX }] },
  { group: '', partitions: [{ topic: '', partition: 0 }, { topic: '', partition: 0 }] },
];
const offsetFetchResponses: OrHeaderOnly<OffsetFetchResponse>[] = [
  { ...OK, results: [] },
  {
    ...OK, results: [
      { topic: 'orders', partition: 0, errorCode: 0, found: true, offset: 42, metadata: 'gen 3' },
      { topic: 'orders', partition: 1, errorCode: 0, found: false, offset: -1, metadata: null },
      { topic: MULTIBYTE, partition: I32_MAX, errorCode: I16_MAX, found: true, offset: I64_MAX, metadata: '' },
      { topic: '', partition: I32_MIN, errorCode: 16, found: false, offset: I64_MIN, metadata: LONGEST_ASCII },
    ],
  },
  UNSUPPORTED,
  { ...OK, results: [{ topic: '', partition: 0, errorCode: 0, found: false, offset: 0, metadata: null }] },
];

const offsetForLeaderEpochRequests: OffsetForLeaderEpochRequest[] = [
  { replicaId: 2, partitions: [{ topic: 'orders', partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] },
  { replicaId: -1, partitions: [] },
  {
    replicaId: I32_MIN, partitions: [
      { topic: MULTIBYTE, partition: I32_MAX, currentLeaderEpoch: -1, leaderEpoch: I32_MAX },
      { topic: LONGEST_ASCII, partition: I32_MIN, currentLeaderEpoch: I32_MIN, leaderEpoch: I32_MIN },
    ],
  },
  { replicaId: 0, partitions: [{ topic: '', partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { topic: '', partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] },
];
const offsetForLeaderEpochResponses: OrHeaderOnly<OffsetForLeaderEpochResponse>[] = [
  { ...OK, partitions: [] },
  {
    ...OK, partitions: [
      { topic: 'orders', partition: 0, errorCode: 0, leaderEpoch: 4, endOffset: 1200 },
      { topic: 'orders', partition: 1, errorCode: 74, leaderEpoch: -1, endOffset: -1 },
      { topic: MULTIBYTE, partition: I32_MAX, errorCode: I16_MIN, leaderEpoch: I32_MAX, endOffset: I64_MAX },
      { topic: '', partition: I32_MIN, errorCode: I16_MAX, leaderEpoch: I32_MIN, endOffset: I64_MIN },
    ],
  },
  INVALID,
  { ...OK, partitions: [{ topic: '', partition: 0, errorCode: 0, leaderEpoch: 0, endOffset: 0 }] },
];

/** Every request, response and push body codec of protocol version 2. */
export const CODECS: readonly Codec[] = [
  codec(ApiKey.Handshake, 'request', encodeHandshakeRequest, decodeHandshakeRequest, handshakeRequests),
  codec(ApiKey.Handshake, 'response', encodeHandshakeResponse, decodeHandshakeResponse, handshakeResponses),
  codec(ApiKey.Metadata, 'request', encodeMetadataRequest, decodeMetadataRequest, metadataRequests),
  codec(ApiKey.Metadata, 'response', encodeMetadataResponse, decodeMetadataResponse, metadataResponses),
  codec(ApiKey.CreateTopics, 'request', encodeCreateTopicsRequest, decodeCreateTopicsRequest, createTopicsRequests),
  codec(ApiKey.CreateTopics, 'response', encodeCreateTopicsResponse, decodeCreateTopicsResponse, createTopicsResponses),
  codec(ApiKey.DeleteTopics, 'request', encodeDeleteTopicsRequest, decodeDeleteTopicsRequest, deleteTopicsRequests),
  codec(ApiKey.DeleteTopics, 'response', encodeDeleteTopicsResponse, decodeDeleteTopicsResponse, deleteTopicsResponses),
  codec(ApiKey.Produce, 'request', encodeProduceRequest, decodeProduceRequest, produceRequests),
  codec(ApiKey.Produce, 'response', encodeProduceResponse, decodeProduceResponse, produceResponses),
  codec(ApiKey.Fetch, 'request', encodeFetchRequest, decodeFetchRequest, fetchRequests),
  codec(ApiKey.Fetch, 'response', encodeFetchResponse, decodeFetchResponse, fetchResponses),
  codec(ApiKey.Subscribe, 'request', encodeSubscribeRequest, decodeSubscribeRequest, subscribeRequests),
  codec(ApiKey.Subscribe, 'response', encodeSubscribeResponse, decodeSubscribeResponse, subscribeResponses),
  codec(ApiKey.Subscribe, 'push', encodeSubscribePush, decodeSubscribePush, subscribePushes),
  codec(ApiKey.Credit, 'request', encodeCreditRequest, decodeCreditRequest, creditRequests),
  codec(ApiKey.Credit, 'response', encodeCreditResponse, decodeCreditResponse, creditResponses),
  codec(ApiKey.Unsubscribe, 'request', encodeUnsubscribeRequest, decodeUnsubscribeRequest, unsubscribeRequests),
  codec(ApiKey.Unsubscribe, 'response', encodeUnsubscribeResponse, decodeUnsubscribeResponse, unsubscribeResponses),
  codec(ApiKey.ListOffsets, 'request', encodeListOffsetsRequest, decodeListOffsetsRequest, listOffsetsRequests),
  codec(ApiKey.ListOffsets, 'response', encodeListOffsetsResponse, decodeListOffsetsResponse, listOffsetsResponses),
  codec(ApiKey.InitProducerId, 'request', encodeInitProducerIdRequest, decodeInitProducerIdRequest, initProducerIdRequests),
  codec(ApiKey.InitProducerId, 'response', encodeInitProducerIdResponse, decodeInitProducerIdResponse, initProducerIdResponses),
  codec(ApiKey.OffsetCommit, 'request', encodeOffsetCommitRequest, decodeOffsetCommitRequest, offsetCommitRequests),
  codec(ApiKey.OffsetCommit, 'response', encodeOffsetCommitResponse, decodeOffsetCommitResponse, offsetCommitResponses),
  codec(ApiKey.OffsetFetch, 'request', encodeOffsetFetchRequest, decodeOffsetFetchRequest, offsetFetchRequests),
  codec(ApiKey.OffsetFetch, 'response', encodeOffsetFetchResponse, decodeOffsetFetchResponse, offsetFetchResponses),
  codec(ApiKey.OffsetForLeaderEpoch, 'request', encodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochRequest, offsetForLeaderEpochRequests),
  codec(ApiKey.OffsetForLeaderEpoch, 'response', encodeOffsetForLeaderEpochResponse, decodeOffsetForLeaderEpochResponse, offsetForLeaderEpochResponses),
];
