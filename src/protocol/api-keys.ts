/**
 * The requests of docs/protocol.md, "Requests", by apiKey (a u8 in the frame header).
 *
 *   0 Handshake   1 Metadata   2 CreateTopics   3 DeleteTopics   4 Produce   5 Fetch
 *   6 Subscribe   7 Credit     8 Unsubscribe    9 ListOffsets   10 InitProducerId
 *   11 OffsetCommit  12 OffsetFetch  13 OffsetForLeaderEpoch
 */

/** The protocol version a client asks for in Handshake. */
export const PROTOCOL_VERSION = 2;

/** The `apiVersion` of every API's body in protocol version 2. */
export const API_VERSION = 2;

export const ApiKey = {
  Handshake: 0,
  Metadata: 1,
  CreateTopics: 2,
  DeleteTopics: 3,
  Produce: 4,
  Fetch: 5,
  Subscribe: 6,
  Credit: 7,
  Unsubscribe: 8,
  ListOffsets: 9,
  InitProducerId: 10,
  OffsetCommit: 11,
  OffsetFetch: 12,
  OffsetForLeaderEpoch: 13,
} as const;

export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

export type ApiName = keyof typeof ApiKey;

/** The name of each apiKey, for messages and logs. */
export const API_NAMES: { readonly [K in ApiKey]: ApiName } = {
  0: 'Handshake',
  1: 'Metadata',
  2: 'CreateTopics',
  3: 'DeleteTopics',
  4: 'Produce',
  5: 'Fetch',
  6: 'Subscribe',
  7: 'Credit',
  8: 'Unsubscribe',
  9: 'ListOffsets',
  10: 'InitProducerId',
  11: 'OffsetCommit',
  12: 'OffsetFetch',
  13: 'OffsetForLeaderEpoch',
};

/** The apiKeys that docs/protocol.md marks *planned*: specified, not yet served. */
export const PLANNED_API_KEYS: readonly ApiKey[] = [];

/** True when `value`, read from a frame header, is an apiKey of protocol version 2. */
export function isApiKey(value: number): value is ApiKey {
  return Number.isInteger(value) && value >= ApiKey.Handshake && value <= ApiKey.OffsetForLeaderEpoch;
}
