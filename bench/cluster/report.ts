import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeMachine } from '../common/machine-info.js';
import { formatMegabytesPerSecond, formatMs, formatNumber, formatTable, type Column } from '../common/table.js';
import type { ClusterBenchOptions } from './bench-options.js';
import type { FailoverFigures } from './failover-bench.js';
import type { ThroughputFigures } from './throughput-bench.js';

/** Everything one run measured; written as JSON under `figures`. */
export interface ClusterBenchFigures {
  readonly failover: readonly FailoverFigures[];
  readonly throughput: readonly ThroughputFigures[];
}

const right = (header: string): Column => ({ header, align: 'right' });
const msOrDash = (ms: number | null): string => (ms === null || Number.isNaN(ms) ? '-' : formatMs(ms));

/** The tables printed at the end of a run. */
export function formatReport(figures: ClusterBenchFigures, options: ClusterBenchOptions, cpuCount: number): string {
  const rounds = figures.failover.flatMap((run) => run.rounds.map((round) => ({ session: run.settings.brokerSessionTimeoutMs, round })));
  return [
    `Sluice cluster bench — ${new Date().toISOString()}${options.quick ? ' (quick)' : ''}`,
    `3 brokers and 1 etcd on 127.0.0.1, all on this machine (${cpuCount} cores); values ${options.valueBytes} B, MB = 10^6 bytes of values`,
    '',
    `1. Failover: SIGKILL the leader (not the controller) of one partition of an RF 3 topic under a steady idempotent acks=all producer`,
    `   (${options.failoverRatePerSecond} records/s); failover = SIGKILL → first acknowledgement from the new leader. Breakdown columns: medians,`,
    `   ms after the SIGKILL. Every round read its partition back: each acknowledged record present exactly once.`,
    formatTable([right('session ms'), right('rounds'), right('min ms'), right('median ms'), right('max ms'), right('lease expired'), right('election written'), right('new leader serving')],
      figures.failover.map((run) => [
        formatNumber(run.settings.brokerSessionTimeoutMs, 0), String(run.rounds.length),
        msOrDash(run.failoverMs.min), msOrDash(run.failoverMs.median), msOrDash(run.failoverMs.max),
        msOrDash(run.breakdownMedianMs.leaseExpired), msOrDash(run.breakdownMedianMs.electionWritten), msOrDash(run.breakdownMedianMs.newLeaderServing),
      ])),
    '',
    'per round (ms after the SIGKILL; then the restart of the killed broker to its "broker started", and from there to back in the ISR):',
    formatTable([right('session ms'), right('round'), right('killed'), right('new leader'), right('lease expired'), right('election written'), right('new leader serving'), right('failover'), right('restart'), right('rejoin ISR'), right('acked records')],
      rounds.map(({ session, round }) => [
        formatNumber(session, 0), String(round.round), String(round.killedBrokerId), round.newLeaderId === null ? '-' : String(round.newLeaderId),
        msOrDash(round.breakdownMs.leaseExpired), msOrDash(round.breakdownMs.electionWritten), msOrDash(round.breakdownMs.newLeaderServing),
        msOrDash(round.failoverMs), msOrDash(round.restartMs), msOrDash(round.rejoinIsrMs), formatNumber(round.check.acknowledged, 0),
      ])),
    '',
    '2. Produce throughput: 1 producer (null keys over 3 partitions, up to 20,000 sends in flight), 3 brokers, every ack after fsync;',
    '   latency = send() → acknowledgement, time queued in the producer included.',
    formatTable([{ header: 'case', align: 'left' }, right('records'), right('secs'), right('records/s'), right('MB/s'), right('p50 ms'), right('p99 ms')],
      figures.throughput.map((run) => [
        `RF=${run.replicationFactor} acks=${run.acks}`, formatNumber(run.records, 0), formatNumber(run.seconds, 2), formatNumber(run.recordsPerSecond, 0),
        formatMegabytesPerSecond(run.megabytesPerSecond * 1e6), formatMs(run.latencyMs.p50), formatMs(run.latencyMs.p99),
      ])),
  ].join('\n');
}

/** Writes cluster-<date>.json and cluster-latest.json into `resultsDir`; returns their names. */
export async function writeResults(resultsDir: string, figures: ClusterBenchFigures, options: ClusterBenchOptions, dataDir: string): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const json = JSON.stringify({ machine: await describeMachine(dataDir), quick: options.quick, options, figures }, null, 2);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const names = [`cluster-${stamp}.json`, 'cluster-latest.json'];
  for (const name of names) await writeFile(join(resultsDir, name), json);
  return names;
}
