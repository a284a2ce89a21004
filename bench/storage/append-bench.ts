import { performance } from 'node:perf_hooks';
import { assert } from '../../src/errors/assert.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { encodeTemplateBatch } from './batches.js';
import type { AppendCaseSpec } from './bench-options.js';
import { startCpuMeter, type CpuUsage } from './cpu-meter.js';
import { GroupSizeObserver, type GroupSizeSummary } from './group-size-observer.js';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';
import { untilSettledOrStalled } from './stall-watchdog.js';

/** One append case, measured from the first append call to the last durable resolve. */
export interface AppendCaseResult {
  readonly recordsPerBatch: number;
  readonly concurrency: number;
  /** Size of each batch on disk, header included. */
  readonly batchBytes: number;
  readonly batchesMax: number;
  readonly caseSecondsMax: number;
  readonly stoppedBy: 'time' | 'count';
  readonly batches: number;
  readonly records: number;
  readonly elapsedMs: number;
  /** From PartitionLog.commitStats, as differences over the case. */
  readonly syncCount: number;
  readonly itemsSynced: number;
  readonly bytesSynced: number;
  readonly appendsPerSync: number;
  /** The spread behind appendsPerSync: appends covered by each fsync. */
  readonly groupSizes: GroupSizeSummary;
  readonly recordsPerSecond: number;
  /** Batch bytes made durable (headers included) per second. */
  readonly bytesPerSecond: number;
  /** Record value bytes (the 100-byte payloads alone) per second. */
  readonly valueBytesPerSecond: number;
  readonly syncsPerSecond: number;
  /** From append() call to its durable resolve. */
  readonly latencyMs: LatencySummaryMs;
  readonly segmentCount: number;
  readonly cpu: CpuUsage;
}

export interface AppendCaseLimits {
  readonly caseSecondsMax: number;
  readonly valueBytes: number;
  readonly stallMsMax: number;
}

/**
 * Appends copies of one batch from `spec.concurrency` closed-loop producers, each awaiting its
 * durable append before issuing the next, until the time or count cap. The log must be fresh
 * or idle: the commit counters are read as differences.
 */
export async function runAppendCase(log: PartitionLog, spec: AppendCaseSpec, limits: AppendCaseLimits): Promise<AppendCaseResult> {
  const template = encodeTemplateBatch(spec.recordsPerBatch, limits.valueBytes, Date.now());
  const before = { ...log.commitStats };
  const flushedBefore = log.flushedOffset;
  const latency = new LatencyRecorder();
  const groups = new GroupSizeObserver(() => log.commitStats);
  const progress = { issued: 0, completed: 0, stoppedBy: 'count' as 'time' | 'count' };
  const cpuMeter = startCpuMeter();
  const startMs = performance.now();
  const deadlineMs = startMs + limits.caseSecondsMax * 1000;

  const producer = async (): Promise<void> => {
    while (progress.issued < spec.batchesMax) {
      if (performance.now() >= deadlineMs) {
        progress.stoppedBy = 'time';
        return;
      }
      progress.issued += 1;
      const batch = template.slice();
      const callMs = performance.now();
      await log.append(batch);
      latency.recordMs(performance.now() - callMs);
      groups.observe();
      progress.completed += 1;
    }
  };
  const producers = Promise.all(Array.from({ length: spec.concurrency }, producer));
  await untilSettledOrStalled(producers, () => progress.completed, limits.stallMsMax, () => ({
    ...progress, commitStats: { ...log.commitStats }, logEndOffset: log.logEndOffset, flushedOffset: log.flushedOffset,
  }));
  const elapsedMs = performance.now() - startMs;
  const cpu = cpuMeter();

  const syncCount = log.commitStats.syncCount - before.syncCount;
  const itemsSynced = log.commitStats.itemsSynced - before.itemsSynced;
  const bytesSynced = log.commitStats.bytesSynced - before.bytesSynced;
  const records = progress.completed * spec.recordsPerBatch;
  assert(progress.completed === progress.issued, 'every issued append resolved');
  assert(itemsSynced === progress.completed, `commitStats counted ${itemsSynced} appends, producers ${progress.completed}`);
  assert(log.flushedOffset - flushedBefore === records, 'the flushed offset moved by the records appended');
  const seconds = elapsedMs / 1000;
  return {
    ...spec,
    batchBytes: template.length,
    caseSecondsMax: limits.caseSecondsMax,
    stoppedBy: progress.stoppedBy,
    batches: progress.completed,
    records,
    elapsedMs,
    syncCount,
    itemsSynced,
    bytesSynced,
    appendsPerSync: syncCount === 0 ? 0 : itemsSynced / syncCount,
    groupSizes: groups.summary(),
    recordsPerSecond: records / seconds,
    bytesPerSecond: bytesSynced / seconds,
    valueBytesPerSecond: (records * limits.valueBytes) / seconds,
    syncsPerSecond: syncCount / seconds,
    latencyMs: latency.summary(),
    segmentCount: log.segmentCount,
    cpu,
  };
}
