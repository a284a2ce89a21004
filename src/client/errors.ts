import { ERROR_CODES, errorNameOf } from '../errors/error-codes.js';
import { SluiceError } from '../errors/sluice-error.js';

/**
 * Errors of the client library. Two kinds, both typed:
 *
 * - SluiceError (src/errors): the broker answered with an error code from the one table; the
 *   error carries its name, number and retriability. `errorFromCode` builds it from a response.
 * - SluiceClientError: something the client saw that no broker said: the connection failed or
 *   closed, the client was closed, an API the broker does not serve, a bad argument. It carries
 *   a `reason` and whether retrying (on a new connection) may succeed.
 */

export type ClientErrorReason =
  /** The WebSocket could not be opened or the handshake failed in transport (retriable). */
  | 'connect-failed'
  /** The connection closed while the request was pending (retriable; it may have taken effect). */
  | 'connection-closed'
  /** close() was called on the client. */
  | 'client-closed'
  /** The broker answered a request the client needs with a header-only INVALID_REQUEST: it does not serve that API. */
  | 'not-served'
  /** send() waited longer than `bufferWaitMsMax` for room in `bufferBytesMax`, or a queue is at its bound. */
  | 'buffer-full'
  /** The broker sent something the protocol does not allow (bad frame, unknown correlation). */
  | 'protocol-violation'
  /** A caller passed a value the client cannot send. */
  | 'invalid-argument';

const RETRIABLE_REASONS: ReadonlySet<ClientErrorReason> = new Set(['connect-failed', 'connection-closed']);

export class SluiceClientError extends Error {
  readonly reason: ClientErrorReason;
  readonly retriable: boolean;

  constructor(reason: ClientErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceClientError';
    this.reason = reason;
    this.retriable = RETRIABLE_REASONS.has(reason);
  }
}

/** True when `error` is a SluiceClientError (with the given reason, if one is given). */
export function isSluiceClientError(error: unknown, reason?: ClientErrorReason): error is SluiceClientError {
  return error instanceof SluiceClientError && (reason === undefined || error.reason === reason);
}

/** True when retrying the same request may succeed: a retriable broker code or transport failure. */
export function isRetriable(error: unknown): boolean {
  return (error instanceof SluiceError || error instanceof SluiceClientError) && error.retriable;
}

/**
 * The typed error for a wire error code. A code this build does not know (a newer broker) is
 * UNKNOWN_SERVER_ERROR, not retriable, with the number in the message.
 */
export function errorFromCode(code: number, detail: string | null = null): SluiceError {
  const name = errorNameOf(code);
  if (name === null) return new UnknownCodeError(code, detail);
  return new SluiceError(name, detail ?? undefined);
}

/**
 * A wire error code this build's table does not name: UNKNOWN_SERVER_ERROR to callers, with the
 * number kept in `wireCode` so that retry rules can still recognise a code by number
 * (src/client/retry-policy.ts).
 */
export class UnknownCodeError extends SluiceError {
  readonly wireCode: number;

  constructor(wireCode: number, detail: string | null) {
    super('UNKNOWN_SERVER_ERROR', `error code ${wireCode}${detail === null ? '' : `: ${detail}`}`);
    this.wireCode = wireCode;
  }
}

/** INVALID_REQUEST's wire code: a header-only answer with it to a well-formed request means "not served". */
export const INVALID_REQUEST_CODE = ERROR_CODES.INVALID_REQUEST.code;
