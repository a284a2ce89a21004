import { join } from 'node:path';
import { runRawSyncCase } from '../storage/raw-disk-bench.js';
import { pseudoRandomBytes } from '../storage/batches.js';
import type { SyncedAppendLimit } from './limit-figures.js';

/** How long and how far each write size runs, whichever ends first. */
export interface SyncedAppendBounds {
  readonly secondsMax: number;
  /** Bytes written per size at most, so a fast disk cannot fill the data dir. */
  readonly bytesMax: number;
}

/**
 * The disk's limit for what Sluice's group commit does: one coalesced write at the end of a
 * fresh, growing file (not preallocated: LogSegment creates its `.log` empty and writev's at
 * its end), then one fdatasync, then the next. Through fs/promises FileHandle, as LogSegment
 * writes, so the libuv thread-pool hop per call is part of the limit, as it is for the broker.
 * One write size at a time, smallest first; each file is removed after its case.
 */
export async function measureSyncedAppends(
  dataDir: string, writeSizesBytes: readonly number[], bounds: SyncedAppendBounds, log: (line: string) => void,
): Promise<SyncedAppendLimit[]> {
  const limits: SyncedAppendLimit[] = [];
  for (const writeBytes of writeSizesBytes) {
    log(`synced appends: ${writeBytes} B write + fdatasync, up to ${bounds.secondsMax} s ...`);
    const result = await runRawSyncCase(join(dataDir, `synced-append-${writeBytes}`), {
      label: `${writeBytes} B write + fdatasync`,
      buffers: [pseudoRandomBytes(writeBytes, writeBytes)],
      recordsPerWrite: null,
      writesMax: Math.max(1, Math.floor(bounds.bytesMax / writeBytes)),
      secondsMax: bounds.secondsMax,
    });
    limits.push({ writeBytes, appendsPerSecond: result.writesPerSecond, megabytesPerSecond: result.bytesPerSecond / 1e6 });
  }
  return limits;
}
