import { mkdir, writeFile } from 'node:fs/promises';
import type { ProducerOptions } from '../../src/client/index.js';
import type { MachineInfo } from '../common/machine-info.js';
import { formatMs, formatNumber, formatTable } from '../common/table.js';
import type { FetchSampleFigures } from './fetch-latency.js';
import type { DropOutcome } from './page-cache.js';
import type { SpreadRun } from './partition-spread.js';
import type { RecoveryFigures, RestartFigures } from './recovery.js';

/** Issue 7's targets for growth. */
export const TARGETS = {
  /** Large-log fetch p50 and p99 within this multiple of the small log's. */
  fetchLargeOverSmallMax: 2,
  /** 100-partition produce throughput at least this fraction of 1-partition. */
  spreadOverSingleMin: 0.7,
  /** spawn → "broker started" after SIGKILL of the large log. */
  recoveryMsMax: 2_000,
} as const;

export interface LogFetchFigures {
  readonly topic: string;
  readonly records: number;
  readonly logBytes: number;
  readonly fillSeconds: number;
  readonly logEndOffset: number;
  readonly warm: FetchSampleFigures;
  /** Null when the page cache could not be dropped. */
  readonly cold: FetchSampleFigures | null;
}

export interface GrowthFigures {
  readonly sizes: Readonly<Record<string, number>>;
  readonly producerSettings: Partial<ProducerOptions>;
  readonly randomSeed: number;
  readonly fetch: readonly LogFetchFigures[];
  readonly pageCacheDrop: DropOutcome;
  readonly spread: readonly SpreadRun[];
  readonly recovery: RecoveryFigures;
}

const MB = 1_000_000;

export function printReport(figures: GrowthFigures, quick: boolean): void {
  const lines = [
    `Sluice growth bench — ${new Date().toISOString()}${quick ? ' (quick)' : ''}`,
    `one broker process on 127.0.0.1; producer acks=1, lingerMs ${figures.producerSettings.lingerMs}, batchBytes ${figures.producerSettings.batchBytes}; MB = 10^6 bytes`,
    '',
    ...fetchSection(figures),
    '',
    ...spreadSection(figures.spread),
    '',
    ...recoverySection(figures.recovery),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function fetchSection(figures: GrowthFigures): string[] {
  const [small, large] = figures.fetch;
  const row = (log: LogFetchFigures): string[] => [
    log.topic, formatNumber(log.logBytes / MB, 0), formatNumber(log.logEndOffset, 0),
    ...(log.cold === null ? ['n/a', 'n/a'] : [formatMs(log.cold.latencyMs.p50), formatMs(log.cold.latencyMs.p99)]),
    formatMs(log.warm.latencyMs.p50), formatMs(log.warm.latencyMs.p99), formatNumber(log.warm.bytesPerFetchMean / 1024, 0),
  ];
  const ratio = (pick: (log: LogFetchFigures) => number | null): string => {
    const a = small === undefined ? null : pick(small);
    const b = large === undefined ? null : pick(large);
    return a === null || b === null ? 'n/a' : `${formatNumber(b / a, 2)}×`;
  };
  const drop = figures.pageCacheDrop.dropped ? 'cold: page cache dropped before every fetch' : `cold: not measured (${figures.pageCacheDrop.reason})`;
  return [
    `1. Fetch of a random offset in the first ${figures.sizes.oldFraction! * 100}% of the log, one batch per round trip, ms (${drop}; warm: second pass over the same offsets):`,
    formatTable([
      { header: 'log', align: 'left' }, { header: 'MB', align: 'right' }, { header: 'records', align: 'right' },
      { header: 'cold p50', align: 'right' }, { header: 'cold p99', align: 'right' }, { header: 'warm p50', align: 'right' },
      { header: 'warm p99', align: 'right' }, { header: 'KiB/fetch', align: 'right' },
    ], [
      ...figures.fetch.map(row),
      ['large / small', '', '', ratio((l) => l.cold?.latencyMs.p50 ?? null), ratio((l) => l.cold?.latencyMs.p99 ?? null), ratio((l) => l.warm.latencyMs.p50), ratio((l) => l.warm.latencyMs.p99), ''],
    ]),
    `target: large within ${TARGETS.fetchLargeOverSmallMax}× of small`,
  ];
}

/** Median records/s per partition count. */
export function spreadMedians(runs: readonly SpreadRun[]): Map<number, number> {
  const byCount = new Map<number, number[]>();
  for (const run of runs) byCount.set(run.partitions, [...(byCount.get(run.partitions) ?? []), run.recordsPerSecond]);
  return new Map([...byCount].map(([count, values]) => [count, median(values)]));
}

function spreadSection(runs: readonly SpreadRun[]): string[] {
  const medians = spreadMedians(runs);
  const one = medians.get(1);
  const rows = [...medians].map(([count, perSecond]) => {
    const all = runs.filter((run) => run.partitions === count).map((run) => formatNumber(run.recordsPerSecond, 0));
    return [String(count), formatNumber(runs.find((run) => run.partitions === count)!.records, 0), formatNumber(perSecond, 0), all.join(' / '), one === undefined ? '' : `${formatNumber(perSecond / one, 2)}×`];
  });
  return [
    '2. Produce throughput by partition count (one producer, explicit partitions round-robin, 100 B values):',
    formatTable([
      { header: 'partitions', align: 'right' }, { header: 'records', align: 'right' }, { header: 'records/s (median)', align: 'right' },
      { header: 'runs', align: 'left' }, { header: 'vs 1', align: 'right' },
    ], rows),
    `target: 100 partitions at least ${TARGETS.spreadOverSingleMin * 100}% of 1`,
  ];
}

function recoverySection(recovery: RecoveryFigures): string[] {
  const row = (name: string, start: RestartFigures): string[] => [
    name, formatNumber(start.spawnToStartedMs, 0), start.partitionOpenMs === null ? 'n/a' : formatNumber(start.partitionOpenMs, 0),
    start.loaded === null ? 'n/a' : formatNumber(start.loaded.bytesScanned / MB, 1), start.loaded === null ? 'n/a' : String(start.loaded.segmentCount),
    start.loaded === null ? 'n/a' : formatNumber(start.loaded.logEndOffset, 0),
  ];
  const streamed = recovery.streamedBeforeKill;
  return [
    `3. Restart of the large log: SIGKILL after ${formatNumber(streamed.seconds, 1)} s of producing (${formatNumber(streamed.acknowledged, 0)} acknowledged, newest offset ${streamed.ackedOffsetMax ?? 'none'}); recovery point at the kill ${recovery.recoveryPointAtKill ?? 'none'}:`,
    formatTable([
      { header: 'start', align: 'left' }, { header: 'spawn → started ms', align: 'right' }, { header: 'partition open ms', align: 'right' },
      { header: 'MB scanned', align: 'right' }, { header: 'segments', align: 'right' }, { header: 'log end offset', align: 'right' },
    ], [row('after SIGKILL', recovery.afterKill), row('after clean stop', recovery.afterCleanStop)]),
    `every acknowledged record present (log end ${formatNumber(recovery.logEndOffsetAfterRestart, 0)} ≥ newest acknowledged + 1, newest fetched back): ${recovery.acknowledgedAllPresent ? 'yes' : 'NO'}`,
    `target: ≤ ${formatNumber(TARGETS.recoveryMsMax, 0)} ms spawn → started after SIGKILL`,
    'start-up log after SIGKILL (ms after spawn):',
    ...recovery.afterKill.timeline.map((line) => `  ${line}`),
  ];
}

export async function writeResults(results: { machine: MachineInfo; quick: boolean; figures: GrowthFigures }): Promise<void> {
  const resultsDir = new URL('../../../bench/results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  const json = JSON.stringify({ ...results, targets: TARGETS }, null, 2);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(new URL(`growth-${stamp}.json`, resultsDir), json);
  await writeFile(new URL('growth-latest.json', resultsDir), json);
  process.stdout.write(`wrote bench/results/growth-${stamp}.json and growth-latest.json\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
