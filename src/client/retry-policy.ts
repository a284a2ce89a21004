import { SluiceError } from '../errors/sluice-error.js';
import { SluiceClientError } from './errors.js';

/**
 * What a client does after a request failed, decided from the error alone (pure, so the rules
 * are unit-tested with plain values):
 *
 * - `refresh-metadata`: the request went to the wrong broker or to one that is gone — a leader
 *   or coordinator moved (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH,
 *   UNKNOWN_LEADER_EPOCH, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE), a broker does not host
 *   the partition (UNKNOWN_TOPIC_OR_PARTITION, which a stale route also produces), or the
 *   connection failed or closed. Forget the route, wait (backoff), refresh metadata, try again.
 * - `retry`: any other retriable error (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS, ...): wait and
 *   send again to the same broker.
 * - `fail`: not retriable; the caller gets the typed error.
 *
 * The leader-epoch codes 74 and 75 are Kafka's; the error table may not name them yet, so a
 * broker's code is matched by name when the table has it and by number otherwise.
 */
export type RetryAction = 'refresh-metadata' | 'retry' | 'fail';

/** Kafka's FENCED_LEADER_EPOCH and UNKNOWN_LEADER_EPOCH: the request's leader epoch is older / newer than the broker's. */
export const LEADER_EPOCH_ERROR_CODES: ReadonlySet<number> = new Set([74, 75]);

const ROUTING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH',
  'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION',
]);

/** The action for `error` (see above). */
export function retryActionFor(error: unknown): RetryAction {
  if (error instanceof SluiceClientError) {
    if (error.reason === 'connect-failed' || error.reason === 'connection-closed') return 'refresh-metadata';
    return 'fail';
  }
  if (!(error instanceof SluiceError)) return 'fail';
  if (isRoutingError(error)) return 'refresh-metadata';
  return error.retriable ? 'retry' : 'fail';
}

/** True when the broker said the request reached the wrong broker for its partition or group. */
export function isRoutingError(error: SluiceError): boolean {
  if (ROUTING_ERROR_NAMES.has(error.errorName)) return true;
  return LEADER_EPOCH_ERROR_CODES.has(wireCodeOf(error));
}

/**
 * The wire code the broker sent: the error's own code, or for a code this build's table does not
 * know (UNKNOWN_SERVER_ERROR made by errorFromCode) the number it carried.
 */
export function wireCodeOf(error: SluiceError): number {
  const carried = (error as { wireCode?: unknown }).wireCode;
  return typeof carried === 'number' ? carried : error.code;
}
