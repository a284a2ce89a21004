/**
 * The sizes of every workload of `bench:compare`, fixed by the harness for all systems alike
 * (issue 7). `--quick` shrinks the counts about 50× for a smoke run; rates stay the same so the
 * end-to-end cases still mean what their labels say, and they last 1 s instead of 10 (a fifth of
 * a second would be mostly start-up).
 */

/** Everything a comparison run sends, per system. */
export interface ComparePlan {
  readonly quick: boolean;
  /** Each workload runs this many times, each on a fresh stream. */
  readonly runs: number;
  /**
   * Records produced, consumed and then sent one at a time before the measured runs, and not
   * counted: the first runs of a fresh process (JIT, connection pools, the server's caches) were
   * measured 2 to 3 times slower than the third.
   */
  readonly warmUpRecords: number;
  readonly warmUpSequentialRecords: number;
  /**
   * Each latency workload, (b) and every rate of (d), first runs this much of itself uncounted:
   * right after the throughput runs, the first couple of thousand sequential records had a p99 of
   * 1.1–2.4 ms on a broker whose steady p99 was 0.7–0.9 ms (the same on one that had only
   * just started), so without it a latency figure measured the transition from the workload
   * before, not its own.
   */
  readonly latencyWarmUpRecords: number;
  readonly latencyWarmUpSeconds: number;
  readonly valueBytes: number;
  /** (a) one producer; (c) reads back what it wrote. */
  readonly produceRecords: number;
  readonly produceInFlight: number;
  /** (b) one record at a time. */
  readonly sequentialRecords: number;
  /** (d) fixed rates, each for `endToEndSeconds`. */
  readonly endToEndRatesPerSecond: readonly number[];
  readonly endToEndSeconds: number;
  /** (e) producers, one per partition, and the records they send in all. */
  readonly parallelProducers: number;
  readonly parallelRecords: number;
  readonly parallelInFlightPerProducer: number;
  /** Sequential acks sent while strace counts the server's fsync calls. */
  readonly ackCheckRecords: number;
  /** Longest one run of one workload may take before it is reported as failed. */
  readonly runTimeoutMs: number;
  /** How often each server pid's RSS is read from /proc. */
  readonly rssSampleIntervalMs: number;
}

const FULL_RUN_TIMEOUT_MS = 15 * 60_000;
const QUICK_RUN_TIMEOUT_MS = 2 * 60_000;

/** The plan of the issue, or its `--quick` shrink. */
export function comparePlan(quick: boolean, runs: number): ComparePlan {
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs ${runs}: must be an integer in [1, 20]`);
  return {
    quick,
    runs,
    warmUpRecords: quick ? 2_000 : 200_000,
    warmUpSequentialRecords: quick ? 50 : 1_000,
    latencyWarmUpRecords: quick ? 50 : 2_000,
    latencyWarmUpSeconds: quick ? 0.2 : 2,
    valueBytes: 100,
    produceRecords: quick ? 20_000 : 1_000_000,
    produceInFlight: 1_000,
    sequentialRecords: quick ? 200 : 10_000,
    endToEndRatesPerSecond: [5_000, 10_000, 50_000],
    endToEndSeconds: quick ? 1 : 10,
    parallelProducers: 8,
    parallelRecords: quick ? 20_000 : 1_000_000,
    parallelInFlightPerProducer: 1_000,
    ackCheckRecords: quick ? 200 : 1_000,
    runTimeoutMs: quick ? QUICK_RUN_TIMEOUT_MS : FULL_RUN_TIMEOUT_MS,
    rssSampleIntervalMs: 250,
  };
}
