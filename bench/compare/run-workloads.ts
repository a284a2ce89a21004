import { randomBytes } from 'node:crypto';
import type { LatencySummaryMs } from '../common/latency.js';
import { formatMs, formatNumber } from '../common/table.js';
import {
  latencyResult, throughputResult, type EndToEndResult, type LatencyResult, type RunFailure, type ThroughputResult,
} from './compare-results.js';
import type { ComparePlan } from './plan.js';
import type { SystemUnderTest, ThroughputFigures } from './system.js';

/**
 * Runs every workload of the plan `plan.runs` times on one started system, each run on fresh
 * stream names, in the order: (a) produce with (c) consuming what it wrote, (b)
 * sequential produce, (d) end-to-end at each rate, (e) parallel producers. A run that throws or
 * times out is recorded as a failure and the next one goes ahead.
 */

/** The results of one system's workloads. */
export interface WorkloadResults {
  readonly produce: ThroughputResult;
  readonly consume: ThroughputResult;
  readonly sequential: LatencyResult;
  readonly endToEnd: readonly EndToEndResult[];
  readonly parallel: ThroughputResult | null;
}

/** Runs (a)–(e) on `system` (already started). */
export async function runWorkloads(system: SystemUnderTest, plan: ComparePlan, log: (line: string) => void): Promise<WorkloadResults> {
  const runner = new RunContext(system, plan, log);
  await runner.warmUp();
  const { produce, consume } = await runner.produceThenConsume();
  const sequential = await runner.latencyRuns('(b) sequential', 1, (stream, warmUp) =>
    system.produceSequential({ stream, records: warmUp ? plan.latencyWarmUpRecords : plan.sequentialRecords, valueBytes: plan.valueBytes }));
  const endToEnd: EndToEndResult[] = [];
  for (const ratePerSecond of plan.endToEndRatesPerSecond) {
    const result = await runner.latencyRuns(`(d) end-to-end ${formatNumber(ratePerSecond, 0)}/s`, 1, (stream, warmUp) =>
      system.endToEnd({ stream, ratePerSecond, seconds: warmUp ? plan.latencyWarmUpSeconds : plan.endToEndSeconds, valueBytes: plan.valueBytes }));
    endToEnd.push({ ...result, ratePerSecond });
  }
  const parallel = system.produceParallel === undefined ? null : await runner.throughputRuns(`(e) ${plan.parallelProducers} producers`, plan.parallelProducers,
    (stream) => system.produceParallel!({
      stream, producers: plan.parallelProducers, records: plan.parallelRecords, inFlight: plan.parallelInFlightPerProducer, valueBytes: plan.valueBytes,
    }));
  return { produce, consume, sequential, endToEnd, parallel };
}

class RunContext {
  constructor(private readonly system: SystemUnderTest, private readonly plan: ComparePlan, private readonly log: (line: string) => void) {}

  /** Produce, consume and sequential sends that are not counted; a failure is logged, and the measured runs go ahead. */
  async warmUp(): Promise<void> {
    const { system, plan } = this;
    const stream = freshStreamName('warm', 0);
    await this.onStream(stream, 1, async () => {
      const outcome = await this.timed('warm-up', async () => {
        const produced = await system.produceThroughput({ stream, records: plan.warmUpRecords, inFlight: plan.produceInFlight, valueBytes: plan.valueBytes });
        await system.consumeAll({ stream, records: produced.records });
        await system.produceSequential({ stream, records: plan.warmUpSequentialRecords, valueBytes: plan.valueBytes });
        return produced;
      });
      if (outcome.ok) this.log(`${system.name}: warm-up (not counted): ${throughputLine(outcome.value)}`);
      else this.log(`${system.name}: warm-up failed (the measured runs go ahead): ${outcome.error}`);
    }, (error) => this.log(`${system.name}: warm-up stream: ${error}`));
  }

  /** (a) then (c) on the same stream, run by run: the consumer reads what that run's producer wrote. */
  async produceThenConsume(): Promise<{ produce: ThroughputResult; consume: ThroughputResult }> {
    const { system, plan } = this;
    const produced: ThroughputFigures[] = [];
    const consumed: ThroughputFigures[] = [];
    const produceFailures: RunFailure[] = [];
    const consumeFailures: RunFailure[] = [];
    for (let run = 1; run <= plan.runs; run++) {
      const stream = freshStreamName('produce', run);
      await this.onStream(stream, 1, async () => {
        const produceOutcome = await this.timed(`(a) produce run ${run}`, () => system.produceThroughput({ stream, records: plan.produceRecords, inFlight: plan.produceInFlight, valueBytes: plan.valueBytes }));
        if (!produceOutcome.ok) {
          produceFailures.push({ run, error: produceOutcome.error });
          consumeFailures.push({ run, error: 'not run: its produce run failed' });
          return;
        }
        produced.push(produceOutcome.value);
        this.logThroughput(`(a) produce run ${run}`, produceOutcome.value);
        const consumeOutcome = await this.timed(`(c) consume run ${run}`, () => system.consumeAll({ stream, records: produceOutcome.value.records }));
        if (!consumeOutcome.ok) {
          consumeFailures.push({ run, error: consumeOutcome.error });
          return;
        }
        consumed.push(consumeOutcome.value);
        this.logThroughput(`(c) consume run ${run}`, consumeOutcome.value);
      }, (error) => {
        produceFailures.push({ run, error });
        consumeFailures.push({ run, error });
      });
    }
    return {
      produce: throughputResult(produced, produceFailures, plan.valueBytes),
      consume: throughputResult(consumed, consumeFailures, plan.valueBytes),
    };
  }

  /** `plan.runs` measured runs of `work`, after a shorter one (`warmUp` true) that is not counted. */
  async latencyRuns(label: string, partitions: number, work: (stream: string, warmUp: boolean) => Promise<LatencySummaryMs>): Promise<LatencyResult> {
    const warmUpStream = freshStreamName(`${workloadLetterOf(label)}warm`, 0);
    await this.onStream(warmUpStream, partitions, async () => {
      const outcome = await this.timed(`${label} warm-up`, () => work(warmUpStream, true));
      if (outcome.ok) this.log(`${this.system.name}: ${label} warm-up (not counted): p99 ${formatMs(outcome.value.p99)} ms (${formatNumber(outcome.value.count, 0)} records)`);
    }, (error) => this.log(`${this.system.name}: ${label} warm-up stream: ${error}`));
    const { runs, failures } = await this.repeated(label, partitions, (stream) => work(stream, false), (l) =>
      `p50 ${formatMs(l.p50)} ms, p99 ${formatMs(l.p99)} ms, p99.9 ${formatMs(l.p999)} ms (${formatNumber(l.count, 0)} records)`);
    return latencyResult(runs, failures);
  }

  async throughputRuns(label: string, partitions: number, work: (stream: string) => Promise<ThroughputFigures>): Promise<ThroughputResult> {
    const { runs, failures } = await this.repeated(label, partitions, work, throughputLine);
    return throughputResult(runs, failures, this.plan.valueBytes);
  }

  // `plan.runs` runs of one workload, each on a fresh stream, each logged with `describe`.
  private async repeated<T>(label: string, partitions: number, work: (stream: string) => Promise<T>, describe: (value: T) => string): Promise<{ runs: T[]; failures: RunFailure[] }> {
    const runs: T[] = [];
    const failures: RunFailure[] = [];
    for (let run = 1; run <= this.plan.runs; run++) {
      const stream = freshStreamName(workloadLetterOf(label), run);
      await this.onStream(stream, partitions, async () => {
        const outcome = await this.timed(`${label} run ${run}`, () => work(stream));
        if (!outcome.ok) return void failures.push({ run, error: outcome.error });
        runs.push(outcome.value);
        this.log(`${this.system.name}: ${label} run ${run}: ${describe(outcome.value)}`);
      }, (error) => failures.push({ run, error }));
    }
    return { runs, failures };
  }

  // Creates the stream, runs `work`, drops the stream (a failed drop is logged, not fatal).
  private async onStream(stream: string, partitions: number, work: () => Promise<void>, createFailed: (error: string) => void): Promise<void> {
    const created = await this.timed(`create ${stream}`, () => this.system.createStream(stream, partitions));
    if (!created.ok) return createFailed(`createStream: ${created.error}`);
    await work();
    const dropped = await this.timed(`drop ${stream}`, () => this.system.dropStream(stream));
    if (!dropped.ok) this.log(`${this.system.name}: dropping ${stream} failed: ${dropped.error}`);
  }

  // Bounded in time: a run that hangs is reported as failed (its promise is left to settle on its own).
  private async timed<T>(label: string, work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.plan.runTimeoutMs / 1000} s`)), this.plan.runTimeoutMs);
    });
    try {
      return { ok: true, value: await Promise.race([work(), timeout]) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`${this.system.name}: ${label} failed: ${message}`);
      return { ok: false, error: message.split('\n')[0]! };
    } finally {
      clearTimeout(timer);
    }
  }

  private logThroughput(label: string, figures: ThroughputFigures): void {
    this.log(`${this.system.name}: ${label}: ${throughputLine(figures)}`);
  }
}

function throughputLine(figures: ThroughputFigures): string {
  return `${formatNumber(figures.records, 0)} records in ${formatNumber(figures.seconds, 2)} s = ${formatNumber(figures.records / figures.seconds, 0)} records/s`;
}

// "(d) end-to-end 5,000/s" → "d".
function workloadLetterOf(label: string): string {
  return /^\((\w)\)/.exec(label)?.[1] ?? 'w';
}

/** A stream name no earlier run used: letters, digits and dashes only, which every system accepts. */
export function freshStreamName(kind: string, run: number): string {
  return `cmp-${kind.replace(/[^a-z0-9]/gi, '')}-r${run}-${randomBytes(4).toString('hex')}`;
}
