import { build, type Histogram } from 'hdr-histogram-js';
import type { GroupCommitStats } from '../../src/storage/group-commit.js';

/** How many appends each fsync covered, over a case. */
export interface GroupSizeSummary {
  /** fsyncs seen one at a time; each went into the histogram with its own size. */
  readonly fsyncsObserved: number;
  /** fsyncs that completed between two observations and went in at their average size. */
  readonly fsyncsAveraged: number;
  readonly min: number;
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  /** Fraction of fsyncs that covered a single append. */
  readonly singleAppendFraction: number;
}

/**
 * Recovers the size of each group commit from the public counters alone: GroupCommitter bumps
 * syncCount and itemsSynced before it resolves a group's appends, and every group resolves at
 * least one append of ours, so looking at the counters after every resolve sees each fsync on
 * its own (the next fsync cannot finish within the same microtask run).
 */
export class GroupSizeObserver {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1 });
  private lastSyncCount: number;
  private lastItemsSynced: number;
  private singleAppendFsyncs = 0;
  private fsyncsAveraged = 0;

  constructor(private readonly stats: () => Readonly<GroupCommitStats>) {
    this.lastSyncCount = stats().syncCount;
    this.lastItemsSynced = stats().itemsSynced;
  }

  /** Call after every resolved append. */
  observe(): void {
    const { syncCount, itemsSynced } = this.stats();
    const syncs = syncCount - this.lastSyncCount;
    if (syncs === 0) return;
    const items = itemsSynced - this.lastItemsSynced;
    if (syncs === 1) {
      this.histogram.recordValue(items);
      if (items === 1) this.singleAppendFsyncs += 1;
    } else {
      this.histogram.recordValueWithCount(Math.max(1, Math.round(items / syncs)), syncs);
      this.fsyncsAveraged += syncs;
    }
    this.lastSyncCount = syncCount;
    this.lastItemsSynced = itemsSynced;
  }

  summary(): GroupSizeSummary {
    const h = this.histogram;
    const fsyncs = h.totalCount;
    return {
      fsyncsObserved: fsyncs - this.fsyncsAveraged,
      fsyncsAveraged: this.fsyncsAveraged,
      min: fsyncs === 0 ? 0 : h.minNonZeroValue,
      p10: h.getValueAtPercentile(10),
      p50: h.getValueAtPercentile(50),
      p90: h.getValueAtPercentile(90),
      max: h.maxValue,
      singleAppendFraction: fsyncs === 0 ? 0 : this.singleAppendFsyncs / fsyncs,
    };
  }
}
