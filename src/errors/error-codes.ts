/**
 * The one table of error codes. Numbers follow Kafka's protocol error codes where Kafka has the
 * same condition, so that a Kafka-literate operator reads them without a dictionary; each entry
 * says whether a client may retry the same request and expect a different outcome.
 *
 * Every code here must be documented in docs/errors.md (a test checks it).
 */
export const ERROR_CODES = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false, message: 'An unexpected error occurred on the server' },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false, message: 'The requested offset is not within the range of offsets held by the log' },
  CORRUPT_MESSAGE: { code: 2, retriable: true, message: 'A record batch failed its CRC-32C or framing check' },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true, message: 'This broker does not host that topic or partition' },
  INVALID_FETCH_SIZE: { code: 4, retriable: false, message: 'The requested fetch size is invalid' },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true, message: 'The partition has no leader right now (an election is under way)' },
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true, message: 'This broker is not the leader of that partition' },
  REQUEST_TIMED_OUT: { code: 7, retriable: true, message: 'The request did not complete within its timeout' },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, message: 'A record batch is larger than the configured maximum' },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true, message: 'The group coordinator is not available' },
  NOT_COORDINATOR: { code: 16, retriable: true, message: 'This broker is not the coordinator of that group' },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false, message: 'The topic name is not valid' },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true, message: 'Fewer in-sync replicas than minInsyncReplicas: nothing was written' },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false, message: 'acks must be 0, 1 or -1 (all)' },
  ILLEGAL_GENERATION: { code: 22, retriable: false, message: 'The group generation is stale' },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false, message: 'The group member is not known to the coordinator' },
  UNSUPPORTED_VERSION: { code: 35, retriable: false, message: 'This broker does not speak that protocol or API version' },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false, message: 'A topic with that name already exists' },
  INVALID_PARTITIONS: { code: 37, retriable: false, message: 'The partition count is not valid' },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false, message: 'The replication factor is not valid' },
  INVALID_CONFIG: { code: 40, retriable: false, message: 'A topic setting is invalid (such as minInsyncReplicas above the replication factor)' },
  INVALID_REQUEST: { code: 42, retriable: false, message: 'The request is malformed or of an unknown type' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false, message: 'The producer sequence number skips ahead of the last one written' },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, retriable: false, message: 'The producer sequence number was already written' },
  INVALID_PRODUCER_EPOCH: { code: 47, retriable: false, message: 'The producer epoch is older than the current one' },
  UNKNOWN_PRODUCER_ID: { code: 59, retriable: false, message: 'The broker has no state for that producer id' },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true, message: 'The log is not usable: a disk operation failed and its data is in an unknown state' },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true, message: 'The leader epoch in the request is older than the epoch on the broker' },
  UNKNOWN_LEADER_EPOCH: { code: 75, retriable: true, message: 'The leader epoch in the request is newer than the epoch on the broker' },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false, message: 'The record batch uses a compression codec this broker does not support' },
  INVALID_RECORD: { code: 87, retriable: false, message: 'A record batch is well framed but its contents are invalid' },
  // Sluice's own conditions, which Kafka has no code for, are numbered from 1000.
  RESPONSE_TOO_LARGE: { code: 1000, retriable: false, message: 'The response would exceed maxFrameBytes; ask for fewer topics or partitions per request' },
} as const satisfies Record<string, ErrorCodeEntry>;

/** One row of the error table. */
export interface ErrorCodeEntry {
  readonly code: number;
  readonly retriable: boolean;
  readonly message: string;
}

/** The symbolic name of an error code, e.g. 'OFFSET_OUT_OF_RANGE'. */
export type ErrorName = keyof typeof ERROR_CODES;

const ERROR_NAME_BY_CODE: ReadonlyMap<number, ErrorName> = new Map(
  (Object.keys(ERROR_CODES) as ErrorName[]).map((name) => [ERROR_CODES[name].code, name]),
);

/**
 * The name of a wire error code (as a response carries it), or null when the table has no such
 * code: a newer broker may send one this build does not know.
 */
export function errorNameOf(code: number): ErrorName | null {
  return ERROR_NAME_BY_CODE.get(code) ?? null;
}
