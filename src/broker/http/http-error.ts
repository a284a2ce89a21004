import type { ErrorName } from '../../errors/error-codes.js';
import { SluiceError } from '../../errors/sluice-error.js';

/**
 * Errors that only the HTTP face has: they concern HTTP itself (routes, methods, body size), not
 * the log, so they are not in the protocol's error table. Each has its status.
 */
export const HTTP_ONLY_ERRORS = {
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
} as const;

export type HttpOnlyErrorName = keyof typeof HTTP_ONLY_ERRORS;

/** An HTTP-only error; `allow` lists the methods of a route for 405. */
export class HttpError extends Error {
  constructor(readonly errorName: HttpOnlyErrorName, message: string, readonly allow: readonly string[] = []) {
    super(message);
    this.name = 'HttpError';
  }

  get status(): number {
    return HTTP_ONLY_ERRORS[this.errorName];
  }
}

// Statuses of the protocol's errors that are not 400 (bad input) or 503 (retriable: the broker
// cannot serve it right now). Every other non-retriable error is the client's input: 400.
const STATUS_BY_ERROR: Partial<Record<ErrorName, number>> = {
  UNKNOWN_SERVER_ERROR: 500,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  CORRUPT_MESSAGE: 400,
  REQUEST_TIMED_OUT: 504,
  MESSAGE_TOO_LARGE: 413,
  TOPIC_ALREADY_EXISTS: 409,
  OFFSET_OUT_OF_RANGE: 416,
};

/** The HTTP status that answers a protocol error. */
export function statusOfError(error: SluiceError): number {
  return STATUS_BY_ERROR[error.errorName] ?? (error.retriable ? 503 : 400);
}

/** The JSON error body every failed route answers with. */
export interface HttpErrorBody {
  readonly error: ErrorName | HttpOnlyErrorName;
  readonly message: string;
}

/** The status and body of any error a route threw; null for a non-typed error (a bug). */
export function describeError(error: unknown): { status: number; body: HttpErrorBody } | null {
  if (error instanceof HttpError) return { status: error.status, body: { error: error.errorName, message: error.message } };
  if (error instanceof SluiceError) return { status: statusOfError(error), body: { error: error.errorName, message: error.message } };
  return null;
}
