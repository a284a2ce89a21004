import type { LatencySummaryMs } from '../common/latency.js';
import type { MachineInfo } from '../common/machine-info.js';
import type { LimitFigures } from '../limits/limit-figures.js';
import type { ComparePlan } from './plan.js';
import { spreadOf, type Spread } from './stats.js';
import type { AckMeaning, ThroughputFigures } from './system.js';

/**
 * The figures of one `bench:compare` run as written to bench/results/compare-*.json and read by
 * the markdown, SVG and limits views. Every figure keeps its per-run values next to its spread.
 */

/** A run of a workload that threw (or timed out): its number (1-based) and the error's message. */
export interface RunFailure {
  readonly run: number;
  readonly error: string;
}

/** One run of a throughput workload. MB are 10^6 bytes of record values. */
export interface ThroughputRun extends ThroughputFigures {
  readonly recordsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** A throughput workload over its runs; spreads are null when no run succeeded. */
export interface ThroughputResult {
  readonly runs: readonly ThroughputRun[];
  readonly failures: readonly RunFailure[];
  readonly recordsPerSecond: Spread | null;
  readonly megabytesPerSecond: Spread | null;
}

/** A latency workload over its runs: the spread of each run's percentiles. */
export interface LatencyResult {
  readonly runs: readonly LatencySummaryMs[];
  readonly failures: readonly RunFailure[];
  readonly p50: Spread | null;
  readonly p99: Spread | null;
  readonly p999: Spread | null;
}

export interface EndToEndResult extends LatencyResult {
  readonly ratePerSecond: number;
}

/** What the strace check saw (or why it did not run). */
export interface AckCheck {
  readonly traced: boolean;
  /** fsync + fdatasync calls of every server pid (threads included) while `acks` sequential records were acknowledged. */
  readonly syncCalls: number | null;
  readonly acks: number;
  readonly syncCallsByPid: Readonly<Record<string, number>>;
  /** Why it was not traced, or what the count means. */
  readonly note: string;
}

/** Everything measured of one system. Workload results are null when the system never got to them. */
export interface SystemResult {
  readonly name: string;
  readonly client: string;
  readonly server: string;
  readonly replicas: number;
  readonly shapeNote: string;
  /** null when it started. */
  readonly startError: string | null;
  /** The system's own statement, refined by the strace check. */
  readonly ack: AckMeaning;
  readonly ackCheck: AckCheck | null;
  readonly produce: ThroughputResult | null;
  readonly consume: ThroughputResult | null;
  readonly sequential: LatencyResult | null;
  readonly endToEnd: readonly EndToEndResult[];
  /** null also when the system has no such shape. */
  readonly parallel: ThroughputResult | null;
  /** Highest RSS of any one server process (bytes), sampled from /proc; null when none was read. */
  readonly rssPeakBytes: number | null;
  readonly rssPeakBytesByPid: Readonly<Record<string, number>>;
}

export interface CompareResults {
  readonly startedIso: string;
  readonly finishedIso: string;
  readonly machine: MachineInfo;
  readonly plan: ComparePlan;
  readonly limits: LimitFigures | null;
  readonly limitsError: string | null;
  /** Lines the registry logged: systems skipped and why. */
  readonly notes: readonly string[];
  readonly systems: readonly SystemResult[];
}

/** A throughput result from the runs that succeeded and those that failed. */
export function throughputResult(figures: readonly ThroughputFigures[], failures: readonly RunFailure[], valueBytes: number): ThroughputResult {
  const runs = figures.map((run) => ({
    ...run,
    recordsPerSecond: run.records / run.seconds,
    megabytesPerSecond: (run.records * valueBytes) / run.seconds / 1e6,
  }));
  return {
    runs, failures,
    recordsPerSecond: spreadOf(runs.map((run) => run.recordsPerSecond)),
    megabytesPerSecond: spreadOf(runs.map((run) => run.megabytesPerSecond)),
  };
}

/** A latency result: each percentile's spread over the runs. */
export function latencyResult(runs: readonly LatencySummaryMs[], failures: readonly RunFailure[]): LatencyResult {
  return {
    runs, failures,
    p50: spreadOf(runs.map((run) => run.p50)),
    p99: spreadOf(runs.map((run) => run.p99)),
    p999: spreadOf(runs.map((run) => run.p999)),
  };
}
