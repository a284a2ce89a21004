import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { encodeRecordBatch, type Record } from '../../src/record/index.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import type { LogManagerOptions } from '../../src/storage/log-manager.js';
import { PartitionLog, type PartitionLogOptions } from '../../src/storage/partition-log.js';

/** Small segments and dense indexes, so tests cross every boundary with little data. */
export const SMALL_LOG_CONFIG: LogConfig = {
  segmentBytes: 16 * 1024,
  segmentMs: 7 * 24 * 3_600_000,
  indexIntervalBytes: 512,
  indexBytesMax: 64 * 1024,
  batchBytesMax: 1024 * 1024,
  retentionBytes: null,
  retentionMs: null,
  groupCommitBytesMax: 1024 * 1024,
  inlineWriteBytesMax: 256 * 1024,
  tailCacheBytesMax: 64 * 1024,
};

/** A temp directory removed by the returned cleanup. */
export async function makeTempDir(prefix = 'sluice-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A logger that records every line as an object, for asserting on log output. */
export function capturingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string; [key: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { logger, lines };
}

/** Options for PartitionLog.open with test defaults; override any field. */
export function logOptions(directory: string, overrides: Partial<PartitionLogOptions> = {}): PartitionLogOptions {
  return {
    directory,
    config: SMALL_LOG_CONFIG,
    recoveryPoint: null,
    highWatermark: null,
    highWatermarkFollowsFlush: true,
    nowMs: () => Date.now(),
    logger: pino({ level: 'silent' }),
    onFatal: (error) => { throw error; },
    ...overrides,
  };
}

/** LogManager options with test defaults (small segments, timers effectively off); override any field. */
export function logManagerOptions(dataDir: string, overrides: Partial<LogManagerOptions> = {}): LogManagerOptions {
  return {
    dataDir,
    brokerId: 1,
    config: SMALL_LOG_CONFIG,
    checkpointIntervalMs: 3_600_000,
    retentionCheckIntervalMs: 3_600_000,
    highWatermarkFollowsFlush: true,
    nowMs: () => Date.now(),
    logger: pino({ level: 'silent' }),
    onFatal: (error) => { throw error; },
    ...overrides,
  };
}

/** Opens a partition log with test defaults. */
export function openLog(directory: string, overrides: Partial<PartitionLogOptions> = {}): Promise<PartitionLog> {
  return PartitionLog.open(logOptions(directory, overrides));
}

const encoder = new TextEncoder();

/** A batch of `count` records whose values name `tag` and their index: `${tag}-${i}`, padded. */
export function makeBatch(tag: string, count = 1, valueBytes = 100, timestamp = 1_700_000_000_000): Uint8Array {
  const records: Record[] = Array.from({ length: count }, (_, i) => ({
    key: encoder.encode(`k-${tag}-${i}`),
    value: encoder.encode(`${tag}-${i}`.padEnd(valueBytes, '.')),
    headers: [],
    timestamp: timestamp + i,
  }));
  return encodeRecordBatch({ records });
}
