import type { CompareResults, LatencyResult, RunFailure, SystemResult, ThroughputResult } from './compare-results.js';
import { limitsView } from './limits-view.js';
import { formatSpread } from './stats.js';
import { SLUICE_STANDALONE_NAME } from './systems/sluice-names.js';
import { evaluateTargets } from './targets.js';

/**
 * The markdown report of a `bench:compare` run: the machine, one row per system (every figure
 * as median (min–max) over the runs), the issue's targets against Sluice's figures, and Sluice's
 * figures as shares of the machine's limits. Failures get a footnote each, so a row never
 * silently lacks a figure.
 */

/** The whole report; `chartFile` (beside it) is shown under the results table when given. */
export function formatMarkdownReport(results: CompareResults, chartFile: string | null = null): string {
  const footnotes = new Footnotes();
  const sections = [
    header(results),
    '## Results',
    '',
    ...(chartFile === null ? [] : [`![throughput and latency per system](${chartFile})`, '']),
    systemsTable(results, footnotes),
    '',
    ...footnotes.lines(),
    '### What an acknowledgement meant',
    '',
    ...results.systems.map((system) => `- **${system.name}** (${system.server}; client ${system.client}): ${system.ack.description}. Checked: ${system.ack.evidence}.`),
    '',
    '## Targets (issue 7) against Sluice',
    '',
    targetsTable(results),
    '',
    '## Sluice against the machine\'s limits',
    '',
    limitsTable(results),
  ];
  return `${sections.join('\n').trimEnd()}\n`;
}

function header(results: CompareResults): string {
  const { machine, plan } = results;
  const lines = [
    `# bench:compare — ${results.startedIso}${plan.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${machine.cpuModel} × ${machine.cpuCount}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${machine.osType} ${machine.osRelease}, Node ${machine.nodeVersion}; ` +
      `data in ${machine.dataDir.path} (${machine.dataDir.mount?.fsType ?? machine.dataDir.statfsType}${machine.dataDir.mount === null ? '' : ` on ${machine.dataDir.mount.device}`}).`,
    '',
    `Each figure: median (min–max) of ${plan.runs} run${plan.runs === 1 ? '' : 's'}, each on fresh streams, after a warm-up that is not counted ` +
      `(${count(plan.warmUpRecords)} records produced and consumed, ${count(plan.warmUpSequentialRecords)} sent one at a time). Values ${plan.valueBytes} B. ` +
      `(a) ${count(plan.produceRecords)} records, ${count(plan.produceInFlight)} in flight; (b) ${count(plan.sequentialRecords)} records one at a time; ` +
      `each latency workload — (b), and (d) at each rate — first runs uncounted (${count(plan.latencyWarmUpRecords)} records; ${plan.latencyWarmUpSeconds} s), so that its figures are its own steady state, not the end of the workload before; ` +
      `(c) one consumer reads (a)'s stream from the start; (d) ${plan.endToEndRatesPerSecond.map(count).join(', ')} records/s for ${plan.endToEndSeconds} s each, latency from the intended send time; ` +
      `(e) ${plan.parallelProducers} producers, ${count(plan.parallelRecords)} records in all, ${count(plan.parallelInFlightPerProducer)} in flight each. ` +
      `One system runs at a time; RSS is each server process's peak (sampled every ${plan.rssSampleIntervalMs} ms), MB = 10^6 bytes.`,
  ];
  if (results.notes.length > 0) lines.push('', ...results.notes.map((note) => `- ${note}`));
  if (results.limitsError !== null) lines.push('', `Limits not measured: ${results.limitsError}`);
  return `${lines.join('\n')}\n`;
}

function systemsTable(results: CompareResults, footnotes: Footnotes): string {
  const rates = results.plan.endToEndRatesPerSecond;
  const headers = [
    'system', 'replicas', 'acked = fsynced?', 'produce rec/s', 'seq p50 ms', 'seq p99 ms', 'seq p99.9 ms', 'consume rec/s',
    ...rates.map((rate) => `e2e p99 ms @${count(rate)}/s`), `${results.plan.parallelProducers} producers rec/s`, 'peak RSS MB',
  ];
  const rows = results.systems.map((system) => systemRow(system, rates, footnotes));
  return markdownTable(headers, rows);
}

function systemRow(system: SystemResult, rates: readonly number[], footnotes: Footnotes): string[] {
  const name = `${system.name}`;
  if (system.startError !== null) {
    const mark = footnotes.add(`${system.name} did not start: ${system.startError}`);
    return [name, String(system.replicas), `start failed${mark}`, ...Array.from({ length: 6 + rates.length }, () => '—')];
  }
  const ack = `${system.ack.fsynced ? 'yes' : 'no'}: ${system.ackCheck?.traced === true ? `${count(system.ackCheck.syncCalls ?? 0)} syncs / ${count(system.ackCheck.acks)} acks (strace)` : 'not traced'}`;
  const e2e = rates.map((rate) => {
    const result = system.endToEnd.find((entry) => entry.ratePerSecond === rate) ?? null;
    return latencyCell(result, 'p99', `${system.name} e2e @${count(rate)}/s`, footnotes);
  });
  return [
    name, String(system.replicas), ack,
    throughputCell(system.produce, `${system.name} produce`, footnotes),
    latencyCell(system.sequential, 'p50', `${system.name} sequential`, footnotes),
    latencyCell(system.sequential, 'p99', null, footnotes),
    latencyCell(system.sequential, 'p999', null, footnotes),
    throughputCell(system.consume, `${system.name} consume`, footnotes),
    ...e2e,
    throughputCell(system.parallel, `${system.name} parallel producers (${system.shapeNote})`, footnotes),
    system.rssPeakBytes === null ? '—' : (system.rssPeakBytes / 1e6).toFixed(0),
  ];
}

function throughputCell(result: ThroughputResult | null, what: string, footnotes: Footnotes): string {
  if (result === null) return '—';
  const mark = failureMark(result.failures, what, footnotes);
  return result.recordsPerSecond === null ? `failed${mark}` : `${formatSpread(result.recordsPerSecond, count)}${mark}`;
}

// `what` null: the failures were already footnoted by another cell of the same result.
function latencyCell(result: LatencyResult | null, percentile: 'p50' | 'p99' | 'p999', what: string | null, footnotes: Footnotes): string {
  if (result === null) return '—';
  const mark = what === null ? '' : failureMark(result.failures, what, footnotes);
  const spread = result[percentile];
  return spread === null ? `failed${mark}` : `${formatSpread(spread, ms)}${mark}`;
}

function failureMark(failures: readonly RunFailure[], what: string, footnotes: Footnotes): string {
  if (failures.length === 0) return '';
  return footnotes.add(`${what}: ${failures.map((failure) => `run ${failure.run}: ${failure.error}`).join('; ')}`);
}

function targetsTable(results: CompareResults): string {
  const verdicts = evaluateTargets(results.systems);
  return markdownTable(['target', 'figure (medians)', 'verdict'], verdicts.map((verdict) => [
    verdict.target, verdict.figure, verdict.met === null ? 'n/a' : verdict.met ? 'met' : 'missed',
  ]));
}

function limitsTable(results: CompareResults): string {
  const sluice = results.systems.find((system) => system.name === SLUICE_STANDALONE_NAME);
  if (results.limits === null) return `Not available: ${results.limitsError ?? 'limits not measured'}.`;
  if (sluice === undefined || sluice.startError !== null) return 'Not available: Sluice standalone was not measured.';
  const rows = limitsView(sluice, results.limits, results.plan.valueBytes).map((row) => [
    row.figure,
    row.sluice === null ? '—' : decimals(row.sluice),
    row.limit === null ? '—' : `${decimals(row.limit)} ${row.unit}`,
    row.limitLabel,
    row.share === null ? '—' : `${(row.share * 100).toFixed(0)}%`,
  ]);
  return `${markdownTable(['Sluice figure', 'Sluice (median)', 'limit', 'limit measured as', 'share of limit'], rows)}\n\n` +
    'Share: figure ÷ limit for throughput, floor ÷ figure for latency (100% = at the limit). Sluice MB/s count record values only.';
}

/** A GitHub-flavoured markdown table; `|` in cells is escaped. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(escape).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Record counts and rates: 950, 12.3k, 1.23M. */
export function count(value: number): string {
  if (Math.abs(value) < 10_000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) < 1e6) return `${(value / 1e3).toFixed(1)}k`;
  return `${(value / 1e6).toFixed(2)}M`;
}

function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

function decimals(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Numbered notes under the table: each failure once, referred to by [n] in its cell. */
class Footnotes {
  private readonly notes: string[] = [];

  add(note: string): string {
    this.notes.push(note);
    return ` [${this.notes.length}]`;
  }

  lines(): string[] {
    return this.notes.length === 0 ? [] : [...this.notes.map((note, index) => `- [${index + 1}] ${note}`), ''];
  }
}
