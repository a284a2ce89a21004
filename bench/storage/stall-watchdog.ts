import { performance } from 'node:perf_hooks';

/** A case in which nothing completed for too long: a hang in the code under test, not the disk. */
export class StallError extends Error {
  constructor(message: string, readonly state: object) {
    super(message);
    this.name = 'StallError';
  }
}

const POLL_MS = 250;

/**
 * Waits for `work`, failing with StallError when `progressCount()` has not moved for
 * `stallMsMax`. Without this a lost wake-up in group commit would leave the process to exit
 * silently with unsettled promises instead of saying where it stopped.
 */
export async function untilSettledOrStalled(
  work: Promise<unknown>, progressCount: () => number, stallMsMax: number, describeState: () => object,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_resolve, reject) => {
    let lastCount = progressCount();
    let lastChangeMs = performance.now();
    timer = setInterval(() => {
      const count = progressCount();
      if (count !== lastCount) {
        lastCount = count;
        lastChangeMs = performance.now();
      } else if (performance.now() - lastChangeMs >= stallMsMax) {
        reject(new StallError(`no progress for ${stallMsMax} ms (count stuck at ${count})`, describeState()));
      }
    }, POLL_MS);
  });
  try {
    await Promise.race([work, stalled]);
  } finally {
    clearInterval(timer);
  }
}
