import { Command, InvalidArgumentError } from 'commander';

/** What one run of the cluster bench does. */
export interface ClusterBenchOptions {
  /** A tiny run for smoke tests: one round, few records; its numbers mean little. */
  readonly quick: boolean;
  /** Where cluster-<date>.json and cluster-latest.json go; null writes no files. */
  readonly resultsDir: string | null;
  /** Failover rounds with brokerSessionTimeoutMs = SHORT_SESSION_TIMEOUT_MS. */
  readonly rounds: number;
  /** Failover rounds with the broker's default brokerSessionTimeoutMs; 0 skips them. */
  readonly defaultSessionRounds: number;
  /** Records of each throughput case. */
  readonly throughputRecords: number;
  /** The failover producer's steady rate. */
  readonly failoverRatePerSecond: number;
  readonly failoverWarmupMs: number;
  readonly failoverAfterMs: number;
  readonly valueBytes: number;
}

/** etcd's shortest lease (2 s with its default heartbeat and election timeouts). */
export const SHORT_SESSION_TIMEOUT_MS = 2_000;
const ROUNDS_DEFAULT = 5;
const DEFAULT_SESSION_ROUNDS_DEFAULT = 3;
const THROUGHPUT_RECORDS_DEFAULT = 300_000;
const THROUGHPUT_RECORDS_QUICK = 3_000;
const VALUE_BYTES = 100;

/** Parses `process.argv` (node, script, ...flags). */
export function parseClusterBenchOptions(argv: readonly string[], defaultResultsDir: string): ClusterBenchOptions {
  const program = new Command('bench-cluster')
    .description('Sluice cluster bench: failover time and replicated produce throughput on 3 brokers and etcd')
    .option('--quick', 'a tiny run for smoke tests (1 round, 3,000 records per case, no default-session rounds)')
    .option('--rounds <n>', 'failover rounds with a 2 s broker session', parseCount, ROUNDS_DEFAULT)
    .option('--default-session-rounds <n>', 'failover rounds with the default broker session (0: none)', parseCount, DEFAULT_SESSION_ROUNDS_DEFAULT)
    .option('--records <n>', 'records per throughput case', parseCount, THROUGHPUT_RECORDS_DEFAULT)
    .option('--results-dir <path>', 'directory for the JSON results', defaultResultsDir)
    .option('--no-results', 'write no JSON files')
    .parse(argv as string[]);
  const flags = program.opts<{ quick?: true; rounds: number; defaultSessionRounds: number; records: number; resultsDir: string; results: boolean }>();
  const quick = flags.quick === true;
  const given = (name: string): boolean => program.getOptionValueSource(name) === 'cli';
  return {
    quick,
    resultsDir: flags.results ? flags.resultsDir : null,
    rounds: quick && !given('rounds') ? 1 : flags.rounds,
    defaultSessionRounds: quick && !given('defaultSessionRounds') ? 0 : flags.defaultSessionRounds,
    throughputRecords: quick && !given('records') ? THROUGHPUT_RECORDS_QUICK : flags.records,
    failoverRatePerSecond: 500,
    failoverWarmupMs: quick ? 500 : 1_500,
    failoverAfterMs: quick ? 300 : 1_000,
    valueBytes: VALUE_BYTES,
  };
}

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return value;
}
