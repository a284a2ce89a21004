import { Command, InvalidArgumentError } from 'commander';

/**
 * What one run of the storage bench does. Every case is bounded twice, by wall time and by a
 * count, whichever comes first, so that a fast disk cannot make a run write without end.
 */
export interface BenchOptions {
  /** Wall-time cap of each measured case. */
  readonly caseSecondsMax: number;
  /** A tiny run for smoke tests: short cases, small caps; its numbers mean little. */
  readonly quick: boolean;
  /** Where storage-<date>.json and storage-latest.json go; null writes no files. */
  readonly resultsDir: string | null;
  /** Record value size of every case. */
  readonly valueBytes: number;
  /** Append cases: records per batch, appends kept in flight, and the batch cap. */
  readonly appendCases: readonly AppendCaseSpec[];
  /** Cap on bytes of the raw 1 MiB-chunk write case. */
  readonly rawChunkBytesMax: number;
  /** Buffer size for the CRC-32C speed measurement. */
  readonly crcBufferBytes: number;
  /** A case with no append completing for this long is reported as stalled. */
  readonly stallMsMax: number;
}

export interface AppendCaseSpec {
  readonly recordsPerBatch: number;
  /** Appends outstanding at any time (closed loop): what group commit can group. */
  readonly concurrency: number;
  /** Count cap of the case, in batches. */
  readonly batchesMax: number;
}

const MIB = 1024 * 1024;
const CASE_SECONDS_DEFAULT = 5;
const CASE_SECONDS_QUICK = 0.25;
const VALUE_BYTES = 100;

// Concurrency shrinks as batches grow: 64 x 1-record batches is 11 KB in flight, 8 x 1000-record
// batches is 0.9 MB, both well below groupCommitBytesMax (4 MiB) so the cap is not what groups.
// The batch caps keep each case under about 1.2 GB on disk even on a very fast device.
const APPEND_CASES: readonly AppendCaseSpec[] = [
  { recordsPerBatch: 1, concurrency: 64, batchesMax: 1_000_000 },
  { recordsPerBatch: 100, concurrency: 32, batchesMax: 100_000 },
  { recordsPerBatch: 1000, concurrency: 8, batchesMax: 10_000 },
];
const QUICK_BATCHES_DIVISOR = 1000;

/** Parses `process.argv` (node, script, ...flags). */
export function parseBenchOptions(argv: readonly string[], defaultResultsDir: string): BenchOptions {
  const program = new Command('bench-storage')
    .description('Sluice storage bench: group-commit appends, reads, and the raw disk limit')
    .option('--seconds <n>', 'wall-time cap of each case, in seconds', parsePositive, CASE_SECONDS_DEFAULT)
    .option('--quick', 'a tiny run for smoke tests (0.25 s cases, small caps)')
    .option('--results-dir <path>', 'directory for the JSON results', defaultResultsDir)
    .option('--no-results', 'write no JSON files')
    .parse(argv as string[]);
  const flags = program.opts<{ seconds: number; quick?: true; resultsDir: string; results: boolean }>();
  const quick = flags.quick === true;
  const secondsGiven = program.getOptionValueSource('seconds') === 'cli';
  return {
    caseSecondsMax: quick && !secondsGiven ? CASE_SECONDS_QUICK : flags.seconds,
    quick,
    resultsDir: flags.results ? flags.resultsDir : null,
    valueBytes: VALUE_BYTES,
    appendCases: quick
      ? APPEND_CASES.map((spec) => ({ ...spec, batchesMax: Math.max(spec.concurrency, Math.ceil(spec.batchesMax / QUICK_BATCHES_DIVISOR)) }))
      : APPEND_CASES,
    rawChunkBytesMax: quick ? 8 * MIB : 1024 * MIB,
    crcBufferBytes: 16 * MIB,
    stallMsMax: 15_000,
  };
}

function parsePositive(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('must be a positive number');
  return value;
}
