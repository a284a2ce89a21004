import { EtcdLeaseInvalidError, GRPCDeadlineExceededError, isRecoverableError } from 'etcd3';
import { SluiceError } from '../errors/sluice-error.js';

/**
 * What a failed etcd call becomes. etcd unreachable, slow, or restarting (including a request
 * cut off by its deadline, or refused while the client's circuit breaker is open) is
 * REQUEST_TIMED_OUT, retriable: the same request may succeed once etcd answers, and, as with a
 * Kafka request that timed out, a write's outcome is unknown (re-read before deciding again).
 * Anything else etcd refuses is UNKNOWN_SERVER_ERROR, not retriable, so that a caller does not
 * retry forever what will never pass. Our own SluiceErrors and assertion failures pass through.
 */
export function etcdFailure(what: string, error: unknown): Error {
  if (error instanceof SluiceError || (error instanceof Error && error.name === 'AssertionError')) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isUnavailable(error)) return new SluiceError('REQUEST_TIMED_OUT', `etcd did not answer ${what}: ${message}`, { cause: error });
  return new SluiceError('UNKNOWN_SERVER_ERROR', `etcd refused ${what}: ${message}`, { cause: error });
}

/** Runs an etcd call, turning its failure into a SluiceError (see etcdFailure). */
export async function etcdCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw etcdFailure(what, error);
  }
}

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return isRecoverableError(error)
    || error instanceof GRPCDeadlineExceededError
    || error instanceof EtcdLeaseInvalidError
    || error.constructor.name === 'BrokenCircuitError';
}
