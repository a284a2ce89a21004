import { build, type Histogram } from 'hdr-histogram-js';

/** Latency percentiles of one case, in milliseconds (recorded at microsecond resolution). */
export interface LatencySummaryMs {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

// 3 significant digits: 1 µs resolution below 1 ms, 1 ms resolution near 1 s.
const SIGNIFICANT_DIGITS = 3;
const US_PER_MS = 1000;

/** Collects latencies into an HDR histogram. */
export class LatencyRecorder {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, lowestDiscernibleValue: 1 });

  recordMs(latencyMs: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * US_PER_MS)));
  }

  summary(): LatencySummaryMs {
    const h = this.histogram;
    const ms = (us: number): number => us / US_PER_MS;
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
      mean: ms(h.mean),
    };
  }
}
