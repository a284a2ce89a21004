import { open, unlink } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { startCpuMeter, type CpuUsage } from './cpu-meter.js';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';

/**
 * The disk's own limit, from Node without the log: a fresh file, appended to sequentially, each
 * write (or writev) followed by fdatasync before the next starts, as the log's group commit
 * does. The file grows with every write, so every fdatasync also commits the new size, again as
 * in the log.
 */
export interface RawSyncResult {
  readonly label: string;
  /** Buffers in each writev (1: a plain write). */
  readonly buffersPerWrite: number;
  readonly bytesPerWrite: number;
  /** Records those bytes stand for, when they are copies of a bench batch; else null. */
  readonly recordsPerWrite: number | null;
  readonly writes: number;
  readonly elapsedMs: number;
  readonly stoppedBy: 'time' | 'count';
  /** Every write is followed by one fdatasync, so this is also syncs per second. */
  readonly writesPerSecond: number;
  readonly bytesPerSecond: number;
  readonly recordsPerSecond: number | null;
  /** write(v) + fdatasync, per write. */
  readonly latencyMs: LatencySummaryMs;
  readonly cpu: CpuUsage;
}

export interface RawSyncCase {
  readonly label: string;
  /** Written together by one writev (or one write when there is one). */
  readonly buffers: readonly Uint8Array[];
  readonly recordsPerWrite: number | null;
  readonly writesMax: number;
  readonly secondsMax: number;
}

/** Runs one raw case on `path` (created, and removed afterwards). */
export async function runRawSyncCase(path: string, rawCase: RawSyncCase): Promise<RawSyncResult> {
  const bytesPerWrite = rawCase.buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  const handle = await open(path, 'wx');
  let loop: WriteLoopResult;
  try {
    loop = await writeSyncLoop(handle, rawCase, bytesPerWrite);
  } finally {
    await handle.close();
    await unlink(path);
  }
  const seconds = loop.elapsedMs / 1000;
  return {
    label: rawCase.label,
    buffersPerWrite: rawCase.buffers.length,
    bytesPerWrite,
    recordsPerWrite: rawCase.recordsPerWrite,
    ...loop,
    writesPerSecond: loop.writes / seconds,
    bytesPerSecond: (loop.writes * bytesPerWrite) / seconds,
    recordsPerSecond: rawCase.recordsPerWrite === null ? null : (loop.writes * rawCase.recordsPerWrite) / seconds,
  };
}

type FileHandle = Awaited<ReturnType<typeof open>>;

interface WriteLoopResult {
  readonly writes: number;
  readonly elapsedMs: number;
  readonly stoppedBy: 'time' | 'count';
  readonly latencyMs: LatencySummaryMs;
  readonly cpu: CpuUsage;
}

// The measured part: closing and unlinking a large file afterwards is not.
async function writeSyncLoop(handle: FileHandle, rawCase: RawSyncCase, bytesPerWrite: number): Promise<WriteLoopResult> {
  const latency = new LatencyRecorder();
  const cpuMeter = startCpuMeter();
  const startMs = performance.now();
  const deadlineMs = startMs + rawCase.secondsMax * 1000;
  let writes = 0;
  let stoppedBy: 'time' | 'count' = 'count';
  for (let position = 0; writes < rawCase.writesMax; position += bytesPerWrite) {
    const callMs = performance.now();
    if (callMs >= deadlineMs) {
      stoppedBy = 'time';
      break;
    }
    await writeAt(handle, rawCase.buffers, position, bytesPerWrite);
    await handle.datasync();
    latency.recordMs(performance.now() - callMs);
    writes += 1;
  }
  const elapsedMs = performance.now() - startMs;
  return { writes, elapsedMs, stoppedBy, latencyMs: latency.summary(), cpu: cpuMeter() };
}

async function writeAt(handle: FileHandle, buffers: readonly Uint8Array[], position: number, bytes: number): Promise<void> {
  const { bytesWritten } = buffers.length === 1
    ? await handle.write(buffers[0]!, 0, bytes, position)
    : await handle.writev(buffers as Uint8Array[], position);
  if (bytesWritten !== bytes) throw new Error(`short write: ${bytesWritten} of ${bytes} bytes`);
}
