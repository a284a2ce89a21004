/**
 * Checks one of our own invariants. A failure is a bug, not bad input: it throws an
 * AssertionError that nothing should catch, so that the process stops instead of running on
 * with state it no longer understands. Browser-safe (no `node:assert`).
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    const error = new Error(`assertion failed: ${message}`);
    error.name = 'AssertionError';
    throw error;
  }
}
