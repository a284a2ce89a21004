/**
 * Retry waits: `baseMs` doubled per attempt up to `maxMs`, with ±20% jitter so that clients
 * cut off together do not come back together. Randomness is injected for seeded tests.
 */
const JITTER_FRACTION = 0.2;

/** The wait before retry number `attempt` (1 for the first retry). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const plain = Math.min(baseMs * 2 ** exponent, maxMs);
  return Math.max(0, Math.round(plain * (1 - JITTER_FRACTION + 2 * JITTER_FRACTION * random())));
}

/** Resolves after `ms` (a bounded wait). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
