import type { SystemResult } from './compare-results.js';
import type { Spread } from './stats.js';
import { SLUICE_CLUSTER_RF1_NAME, SLUICE_CLUSTER_RF3_NAME, SLUICE_STANDALONE_NAME, isSluiceName } from './systems/sluice-names.js';

/**
 * The targets of issue 7, checked against the medians of one run. A target whose figures are
 * missing (a system skipped, a workload failed) is neither met nor missed: `met` is null and the
 * figure says what was missing.
 */

export interface TargetVerdict {
  readonly target: string;
  /** Sluice's figure and what it was compared with, in words. */
  readonly figure: string;
  readonly met: boolean | null;
}

/** The RSS ceiling of one Sluice broker process, in bytes (300 MB, MB = 10^6). */
export const BROKER_RSS_BYTES_MAX = 300e6;

/** Every target, in the order. */
export function evaluateTargets(systems: readonly SystemResult[]): TargetVerdict[] {
  const sluice = systems.find((system) => system.name === SLUICE_STANDALONE_NAME) ?? null;
  const peers = systems.filter((system) => !isSluiceName(system.name) && system.replicas === 1);
  const redisAlways = systems.find((system) => /redis/i.test(system.name) && /always/i.test(system.name)) ?? null;
  const natsR3 = systems.find((system) => /nats/i.test(system.name) && system.replicas === 3) ?? null;
  const rf1 = systems.find((system) => system.name === SLUICE_CLUSTER_RF1_NAME) ?? null;
  const rf3 = systems.find((system) => system.name === SLUICE_CLUSTER_RF3_NAME) ?? null;
  const produce = (system: SystemResult | null): number | null => median(system?.produce?.recordsPerSecond);
  const consume = (system: SystemResult | null): number | null => median(system?.consume?.recordsPerSecond);
  const fastestProducer = fastest(peers, produce);
  const fastestConsumer = fastest(peers, consume);
  const e2e5000 = sluice?.endToEnd.find((result) => result.ratePerSecond === 5_000) ?? null;
  const sluiceRss = systems.filter((system) => isSluiceName(system.name)).map((system) => system.rssPeakBytes).filter((bytes): bytes is number => bytes !== null);
  return [
    atLeast('produce ≥ 1,000,000 records/s', produce(sluice), 1_000_000, 'Sluice', recordsPerSecond),
    ratio('produce ≥ 2× the fastest peer', { value: produce(sluice), factor: 2, reference: fastestProducer?.value ?? null, referenceName: fastestProducer?.system.name ?? 'no peer measured' }),
    ratio('produce ≥ 8× Redis (appendfsync always)', { value: produce(sluice), factor: 8, reference: produce(redisAlways), referenceName: redisAlways?.name ?? 'no Redis always row' }),
    atMost('sequential produce p99 ≤ 1 ms', median(sluice?.sequential?.p99), 1, 'Sluice', milliseconds),
    atLeast('consume ≥ 2,000,000 records/s', consume(sluice), 2_000_000, 'Sluice', recordsPerSecond),
    ratio('consume ≥ 3× the fastest peer', { value: consume(sluice), factor: 3, reference: fastestConsumer?.value ?? null, referenceName: fastestConsumer?.system.name ?? 'no peer measured' }),
    atMost('end-to-end p99 ≤ 3 ms at 5,000/s', median(e2e5000?.p99), 3, 'Sluice', milliseconds),
    ratio('RF3 acks=all produce ≥ 40% of RF1', { value: produce(rf3), who: rf3?.name ?? 'no RF3 row', factor: 0.4, reference: produce(rf1), referenceName: rf1?.name ?? 'no RF1 row' }),
    ratio('RF3 acks=all produce above NATS R3', { value: produce(rf3), who: rf3?.name ?? 'no RF3 row', factor: 1, strictlyAbove: true, reference: produce(natsR3), referenceName: natsR3?.name ?? 'no NATS R3 row' }),
    atMost('broker RSS < 300 MB (peak, any Sluice broker)', sluiceRss.length === 0 ? null : Math.max(...sluiceRss), BROKER_RSS_BYTES_MAX, 'Sluice', megabytes, true),
  ];
}

function median(spread: Spread | null | undefined): number | null {
  return spread?.median ?? null;
}

function fastest(systems: readonly SystemResult[], figure: (system: SystemResult) => number | null): { system: SystemResult; value: number } | null {
  let top: { system: SystemResult; value: number } | null = null;
  for (const system of systems) {
    const value = figure(system);
    if (value !== null && (top === null || value > top.value)) top = { system, value };
  }
  return top;
}

function atLeast(target: string, value: number | null, floor: number, who: string, format: (value: number) => string): TargetVerdict {
  if (value === null) return { target, figure: `${who}: not measured`, met: null };
  return { target, figure: format(value), met: value >= floor };
}

function atMost(target: string, value: number | null, ceiling: number, who: string, format: (value: number) => string, strict = false): TargetVerdict {
  if (value === null) return { target, figure: `${who}: not measured`, met: null };
  return { target, figure: format(value), met: strict ? value < ceiling : value <= ceiling };
}

/** A throughput compared with `factor` × another system's (`referenceName`). */
interface RatioCheck {
  readonly value: number | null;
  /** Whose figure `value` is, when it is missing (default Sluice). */
  readonly who?: string;
  readonly factor: number;
  /** Strictly above `factor` × reference (default: at least). */
  readonly strictlyAbove?: boolean;
  readonly reference: number | null;
  readonly referenceName: string;
}

function ratio(target: string, check: RatioCheck): TargetVerdict {
  const { value, reference, referenceName, factor } = check;
  if (value === null) return { target, figure: `${check.who ?? 'Sluice'}: not measured`, met: null };
  if (reference === null || reference <= 0) return { target, figure: `${recordsPerSecond(value)}; ${referenceName}: not measured`, met: null };
  return {
    target,
    figure: `${recordsPerSecond(value)} = ${(value / reference).toFixed(2)}× ${referenceName} (${recordsPerSecond(reference)})`,
    met: check.strictlyAbove === true ? value > factor * reference : value >= factor * reference,
  };
}

function recordsPerSecond(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} rec/s`;
}

function milliseconds(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}
