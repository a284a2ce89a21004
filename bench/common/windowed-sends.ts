/**
 * Calls `send(index)` for index 0 … count − 1 keeping at most `inFlight` unsettled, then waits
 * for all (after `beforeWait`, say a producer's flush). A counter rather than an array of
 * promises: the window slides by one answer at a time, in any order, and shifting a long array
 * per send is itself O(n). The first failed send stops new sends and fails the run once every
 * started one has settled. Every system's (a) and (e) producers go through this one loop.
 */
export async function sendWindowed(count: number, inFlight: number, send: (index: number) => Promise<unknown>, beforeWait?: () => Promise<void>): Promise<void> {
  let outstanding = 0;
  let firstError: unknown = null;
  let slotFreed: (() => void) | null = null;
  const settled = (): void => {
    outstanding -= 1;
    slotFreed?.();
    slotFreed = null;
  };
  const failed = (error: unknown): void => {
    firstError ??= error;
    settled();
  };
  for (let i = 0; i < count && firstError === null; i++) {
    outstanding += 1;
    send(i).then(settled, failed);
    while (outstanding >= inFlight) await new Promise<void>((resolve) => { slotFreed = resolve; });
  }
  await beforeWait?.();
  while (outstanding > 0) await new Promise<void>((resolve) => { slotFreed = resolve; });
  if (firstError !== null) throw firstError;
}

/** `total` split into `parts` shares that differ by at most one. */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
