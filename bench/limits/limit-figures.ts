/**
 * The machine's own limits, measured by bench/limits in the same run as the comparison, so
 * every Sluice figure can be shown as a fraction of what the disk and loopback allow.
 */

/** fdatasync'd sequential appends to a growing file from Node, one write of `writeBytes` per fdatasync. */
export interface SyncedAppendLimit {
  readonly writeBytes: number;
  readonly appendsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** One-way WebSocket loopback throughput with `ws` at one frame size. */
export interface WebSocketLimit {
  readonly frameBytes: number;
  readonly direction: 'client-to-server' | 'server-to-client';
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** Latency percentiles in ms. */
export interface LatencyPercentilesMs {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

export interface LimitFigures {
  /** The write sizes Sluice's group commit produces, smallest first. */
  readonly syncedAppends: readonly SyncedAppendLimit[];
  /** fdatasync of a file with a fresh small write before each: the floor of an acknowledged produce. */
  readonly fdatasyncLatencyMs: LatencyPercentilesMs;
  /** How many fdatasyncs those percentiles are of. */
  readonly fdatasyncSamples: number;
  readonly webSocket: readonly WebSocketLimit[];
  /** Which CRC-32C implementation fast-crc32c picked here, and its speed on 1 MiB buffers. */
  readonly crc32c: { readonly implementation: 'native' | 'js'; readonly megabytesPerSecond: number };
  /** Whether ws found the bufferutil addon (masking in C, not JS), in both the client and the server process. */
  readonly bufferutil: boolean;
}
