import { SluiceError } from '../errors/sluice-error.js';
import { CloseCode } from './close-codes.js';

/**
 * The one error a body decoder throws: the bytes are not a well-formed body of the API it was
 * asked to decode. It is a SluiceError named INVALID_REQUEST (the broker answers with that code
 * and keeps the connection open), and it says which field failed and at which byte offset of the
 * body, e.g. "Produce request: topics[0].partitions[1].records length 99999 at offset 21 exceeds
 * the 12 bytes left".
 */
export class BodyDecodeError extends SluiceError {
  /** Path of the field that failed, e.g. `topics[0].partitions[1].records`. */
  readonly field: string;
  /** Offset in the body, in bytes, of the first byte of that field. */
  readonly offsetBytes: number;

  constructor(context: string, field: string, offsetBytes: number, description: string) {
    super('INVALID_REQUEST', `${context}: ${description}`);
    this.field = field;
    this.offsetBytes = offsetBytes;
  }
}

/** Why a frame header cannot be read; both close the connection with 1002 (protocol error). */
export type FrameHeaderProblem = 'tooShort' | 'unknownKind';

/**
 * A frame whose 8-byte header cannot be read: shorter than the header, or of an unknown `kind`.
 * Unlike a malformed body, which gets an INVALID_REQUEST response, this closes the connection
 * with `closeCode` 1002, since there is no trustworthy correlation id to answer.
 */
export class FrameHeaderError extends SluiceError {
  readonly problem: FrameHeaderProblem;
  readonly closeCode: CloseCode = CloseCode.protocolError;

  constructor(problem: FrameHeaderProblem, detail: string) {
    super('INVALID_REQUEST', detail);
    this.problem = problem;
  }
}
