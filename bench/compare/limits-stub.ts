import type { LimitFigures } from '../limits/limit-figures.js';

/**
 * TEMPORARY stand-in for bench/limits/measure-limits.ts (written on another branch), with its
 * signature, so this branch builds. Delete this file at merge and import from
 * '../limits/measure-limits.js' in main.ts.
 */
export async function measureLimits(dataDir: string, log: (line: string) => void): Promise<LimitFigures> {
  void dataDir;
  log('limits: bench/limits/measure-limits.ts is not on this branch; no limits measured');
  throw new Error('bench/limits/measure-limits.ts is not on this branch');
}
