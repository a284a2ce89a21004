import type { EndToEndResult, LatencyResult, SystemResult, ThroughputResult } from '../../bench/compare/compare-results.js';
import { latencyResult, throughputResult } from '../../bench/compare/compare-results.js';
import type { LatencySummaryMs } from '../../bench/common/latency.js';

/** Figures for the report tests: made-up, one system at a time. */

export function throughput(recordsPerSecondByRun: readonly number[]): ThroughputResult {
  return throughputResult(recordsPerSecondByRun.map((rate) => ({ records: rate, seconds: 1 })), [], 100);
}

export function latency(p99ByRun: readonly number[]): LatencyResult {
  return latencyResult(p99ByRun.map((p99) => summary(p99 / 2, p99)), []);
}

export function endToEnd(ratePerSecond: number, p99ByRun: readonly number[]): EndToEndResult {
  return { ...latency(p99ByRun), ratePerSecond };
}

function summary(p50: number, p99: number): LatencySummaryMs {
  return { count: 1_000, p50, p90: p99, p99, p999: p99 * 2, max: p99 * 3, mean: p50 };
}

/** A measured system: every workload ran (override what a test needs). */
export function system(name: string, overrides: Partial<SystemResult> = {}): SystemResult {
  return {
    name, client: 'client 1.0', server: 'server 1.0', replicas: 1, shapeNote: '8 partitions',
    startError: null,
    ack: { fsynced: true, description: 'fsync before ack', evidence: 'strace' },
    ackCheck: { traced: true, syncCalls: 1_010, acks: 1_000, syncCallsByPid: { '1': 1_010 }, note: '' },
    produce: throughput([100_000]), consume: throughput([200_000]), sequential: latency([1]),
    endToEnd: [endToEnd(5_000, [2])], parallel: throughput([300_000]),
    rssPeakBytes: 100e6, rssPeakBytesByPid: { '1': 100e6 },
    ...overrides,
  };
}
