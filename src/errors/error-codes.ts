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
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, message: 'A record batch is larger than the configured maximum' },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true, message: 'The log is not usable: a disk operation failed and its data is in an unknown state' },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false, message: 'The record batch uses a compression codec this broker does not support' },
  INVALID_RECORD: { code: 87, retriable: false, message: 'A record batch is well framed but its contents are invalid' },
} as const satisfies Record<string, ErrorCodeEntry>;

/** One row of the error table. */
export interface ErrorCodeEntry {
  readonly code: number;
  readonly retriable: boolean;
  readonly message: string;
}

/** The symbolic name of an error code, e.g. 'OFFSET_OUT_OF_RANGE'. */
export type ErrorName = keyof typeof ERROR_CODES;
