import os, { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_SETTINGS } from '../../src/config/broker-config.js';
import { SHORT_SESSION_TIMEOUT_MS, parseClusterBenchOptions, type ClusterBenchOptions } from './bench-options.js';
import { BenchCluster, BenchResources } from './cluster-processes.js';
import { failoverBench, type FailoverFigures } from './failover-bench.js';
import { formatReport, writeResults, type ClusterBenchFigures } from './report.js';
import { throughputBench, type ThroughputFigures } from './throughput-bench.js';

/**
 * The cluster benchmark (issue 6): one etcd and three `sluice broker --etcd` processes on this
 * machine. 1. failover time with etcd's shortest broker session (2 s), then with the default;
 * 2. produce throughput RF 3 against RF 1. Progress goes to stderr, the tables to stdout, the
 * figures to bench/results/cluster-latest.json. A failover round that loses or duplicates an
 * acknowledged record fails the whole run: no figure is reported from it.
 */

const BROKERS = 3;
/** What the bench started: a SIGINT or SIGTERM kills it (by PID) and removes it before the bench exits. */
const resources = new BenchResources();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: killing etcd and the brokers, removing their data directories`);
    void resources.abort().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const options = parseClusterBenchOptions(process.argv, fileURLToPath(new URL('../../../bench/results/', import.meta.url)));
  const failover: FailoverFigures[] = [];
  let throughput: ThroughputFigures[] = [];
  if (options.rounds > 0) failover.push(await onCluster(SHORT_SESSION_TIMEOUT_MS, (cluster) => failoverBench(cluster, failoverSettings(options, SHORT_SESSION_TIMEOUT_MS, options.rounds), progress)));
  // Throughput runs with the default session: a 2 s lease on a busy 2-core machine could expire
  // under load and turn a throughput case into a failover.
  const defaultSessionMs = BROKER_SETTINGS.brokerSessionTimeoutMs.default;
  await onCluster(defaultSessionMs, async (cluster) => {
    throughput = await throughputBench(cluster, options.throughputRecords, options.valueBytes, progress);
    if (options.defaultSessionRounds > 0) failover.push(await failoverBench(cluster, failoverSettings(options, defaultSessionMs, options.defaultSessionRounds), progress));
  });
  const figures: ClusterBenchFigures = { failover, throughput };
  process.stdout.write(`${formatReport(figures, options, os.cpus().length)}\n`);
  if (options.resultsDir === null) return;
  const names = await writeResults(options.resultsDir, figures, options, tmpdir());
  process.stdout.write(`wrote ${names.map((name) => displayPath(join(options.resultsDir!, name))).join(' and ')}\n`);
}

// Starts a 3-broker cluster with the given session timeout, runs `work`, always stops it.
async function onCluster<T>(brokerSessionTimeoutMs: number, work: (cluster: BenchCluster) => Promise<T>): Promise<T> {
  progress(`starting etcd and ${BROKERS} brokers (broker session ${brokerSessionTimeoutMs} ms)`);
  const cluster = await BenchCluster.start(BROKERS, brokerSessionTimeoutMs, resources);
  try {
    return await work(cluster);
  } finally {
    await cluster.stop();
  }
}

function failoverSettings(options: ClusterBenchOptions, brokerSessionTimeoutMs: number, rounds: number): Parameters<typeof failoverBench>[1] {
  return {
    brokerSessionTimeoutMs, rounds, ratePerSecond: options.failoverRatePerSecond,
    warmupMs: options.failoverWarmupMs, afterMs: options.failoverAfterMs, valueBytes: options.valueBytes,
  };
}

// Relative to the working directory when inside it (bench/results/...), else absolute.
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith('..') ? path : shown;
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
