export type { LogConfig } from './log-config.js';
export { LogManager, RECOVERY_POINT_CHECKPOINT_FILE, HIGH_WATERMARK_CHECKPOINT_FILE, type LogManagerOptions } from './log-manager.js';
export { PartitionLog, type AppendResult, type LogReadResult, type PartitionLogOptions } from './partition-log.js';
export type { LoadReport } from './log-loader.js';
export { readOffsetCheckpoint, writeOffsetCheckpoint, parseOffsetCheckpoint, type PartitionOffset, type CheckpointRead } from './offset-checkpoint-file.js';
export { scanSegment, type ScannedBatch, type ScanStop } from './segment-scanner.js';
export { parseLogFileName, partitionDirName, parsePartitionDirName, segmentFilePrefix } from './segment-names.js';
