import type { LogConfig } from '../storage/log-config.js';
import type { BrokerConfig } from './broker-config.js';

/** The storage layer's view of the broker configuration. */
export function logConfigOf(config: BrokerConfig): LogConfig {
  return {
    segmentBytes: config.segmentBytes,
    segmentMs: config.segmentMs,
    indexIntervalBytes: config.indexIntervalBytes,
    indexBytesMax: config.indexBytesMax,
    batchBytesMax: config.batchBytesMax,
    retentionBytes: config.retentionBytes,
    retentionMs: config.retentionMs,
    groupCommitBytesMax: config.groupCommitBytesMax,
    inlineWriteBytesMax: config.inlineWriteBytesMax,
    tailCacheBytesMax: config.tailCacheBytesMax,
  };
}
