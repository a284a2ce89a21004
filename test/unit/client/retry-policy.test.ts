import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/client/backoff.js';
import { SluiceClientError, errorFromCode } from '../../../src/client/errors.js';
import { retryActionFor, wireCodeOf } from '../../../src/client/retry-policy.js';
import { ERROR_CODES, SluiceError, type ErrorName } from '../../../src/errors/index.js';
import { mulberry32 } from '../../helpers/random.js';

/** What the client does after an error: refresh metadata and retry, just retry, or fail. */

describe('the retry decision', () => {
  it('refreshes metadata after a leader or coordinator moved, a stale route, or a lost connection', () => {
    const names: ErrorName[] = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION'];
    for (const name of names) expect(retryActionFor(errorFromCode(ERROR_CODES[name].code)), name).toBe('refresh-metadata');
    expect(retryActionFor(new SluiceClientError('connect-failed', 'x'))).toBe('refresh-metadata');
    expect(retryActionFor(new SluiceClientError('connection-closed', 'x'))).toBe('refresh-metadata');
  });

  it('treats codes 74 and 75 (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) as leader changes whether or not the error table names them', () => {
    for (const code of [74, 75]) {
      const error = errorFromCode(code, 'p');
      expect(wireCodeOf(error)).toBe(code);
      expect(retryActionFor(error)).toBe('refresh-metadata');
    }
  });

  it('just retries other retriable errors, and fails on the rest', () => {
    expect(retryActionFor(new SluiceError('REQUEST_TIMED_OUT'))).toBe('retry');
    expect(retryActionFor(new SluiceError('NOT_ENOUGH_REPLICAS'))).toBe('retry');
    expect(retryActionFor(new SluiceError('MESSAGE_TOO_LARGE'))).toBe('fail');
    expect(retryActionFor(errorFromCode(9_999))).toBe('fail');
    expect(retryActionFor(new SluiceClientError('client-closed', 'x'))).toBe('fail');
    expect(retryActionFor(new SluiceClientError('not-served', 'x'))).toBe('fail');
    expect(retryActionFor(new Error('a bug'))).toBe('fail');
  });
});

describe('the retry backoff', () => {
  it('doubles from the base up to the cap, within ±20% jitter', () => {
    const random = mulberry32(7);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const plain = Math.min(100 * 2 ** (attempt - 1), 1_000);
      for (let sample = 0; sample < 50; sample++) {
        const wait = backoffMs(attempt, 100, 1_000, random);
        expect(wait).toBeGreaterThanOrEqual(Math.floor(plain * 0.8));
        expect(wait).toBeLessThanOrEqual(Math.ceil(plain * 1.2));
      }
    }
    expect(backoffMs(1, 100, 1_000, () => 0.5)).toBe(100);
    expect(backoffMs(40, 100, 1_000, () => 0.5)).toBe(1_000);
  });
});
