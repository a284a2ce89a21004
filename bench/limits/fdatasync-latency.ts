import { open, unlink } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';
import { encodeTemplateBatch } from '../storage/batches.js';

/** How many fdatasyncs to time, bounded twice. */
export interface FdatasyncLatencyBounds {
  readonly samplesMax: number;
  readonly secondsMax: number;
}

// Untimed first rounds: the file's first blocks and the journal's first commit are not typical.
const WARMUP_SYNCS = 20;
const VALUE_BYTES = 100;

/**
 * The floor under an acknowledged one-record produce: append one encoded 1-record batch (as a
 * producer sending one 100-byte record at a time makes the log write) to a growing file, then
 * time the fdatasync alone. Through FileHandle, as LogSegment.flush does, so the thread-pool
 * hop is included. The file is removed afterwards.
 */
export async function measureFdatasyncLatency(path: string, bounds: FdatasyncLatencyBounds): Promise<LatencySummaryMs> {
  const batch = encodeTemplateBatch(1, VALUE_BYTES, Date.now());
  const latency = new LatencyRecorder();
  const handle = await open(path, 'wx');
  try {
    let position = 0;
    const deadlineMs = performance.now() + bounds.secondsMax * 1000;
    for (let round = 0; round < WARMUP_SYNCS + bounds.samplesMax && performance.now() < deadlineMs; round++) {
      const { bytesWritten } = await handle.write(batch, 0, batch.length, position);
      if (bytesWritten !== batch.length) throw new Error(`short write: ${bytesWritten} of ${batch.length} bytes`);
      position += batch.length;
      const syncStartMs = performance.now();
      await handle.datasync();
      if (round >= WARMUP_SYNCS) latency.recordMs(performance.now() - syncStartMs);
    }
  } finally {
    await handle.close();
    await unlink(path);
  }
  return latency.summary();
}
