import { ERROR_CODES, type ErrorName } from './error-codes.js';

/**
 * A typed error for anything a client, a file or the network can get wrong. Our own broken
 * invariants are assertions instead, and stop the process.
 */
export class SluiceError extends Error {
  readonly errorName: ErrorName;
  readonly code: number;
  readonly retriable: boolean;

  constructor(errorName: ErrorName, detail?: string, options?: { cause?: unknown }) {
    const entry = ERROR_CODES[errorName];
    super(detail === undefined ? entry.message : `${entry.message}: ${detail}`, options);
    this.name = 'SluiceError';
    this.errorName = errorName;
    this.code = entry.code;
    this.retriable = entry.retriable;
  }
}

/** True when `error` is a SluiceError with the given name. */
export function isSluiceError(error: unknown, errorName?: ErrorName): error is SluiceError {
  return error instanceof SluiceError && (errorName === undefined || error.errorName === errorName);
}
