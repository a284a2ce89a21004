import { join } from 'node:path';
import { reportNativeAddons } from '../../src/broker/native-addons.js';
import { runCrcBench } from '../storage/crc-bench.js';
import { measureFdatasyncLatency } from './fdatasync-latency.js';
import type { LimitFigures } from './limit-figures.js';
import { measureSyncedAppends } from './synced-appends.js';
import { measureWebSocketLoopback } from './websocket-loopback.js';

/** How long and how far the measurements run. */
export interface LimitOptions {
  /** Wall time of each synced-append size and each WebSocket case. */
  readonly caseSeconds: number;
  /** Start of each WebSocket case not counted. */
  readonly webSocketWarmupMs: number;
  /** Bytes each synced-append size writes at most. */
  readonly syncedAppendBytesMax: number;
  /** fdatasyncs timed (after a few untimed ones), within `caseSeconds` * 2 at most. */
  readonly fdatasyncSamples: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** About 35 s in all on a 2-core machine: 5 sizes x 2 s of appends, 8 x 2 s of WebSocket, ~1 s of the rest. */
export const LIMIT_OPTIONS_FULL: LimitOptions = { caseSeconds: 2, webSocketWarmupMs: 200, syncedAppendBytesMax: 1024 * MIB, fdatasyncSamples: 2_000 };
/** A smoke run of a few seconds; its numbers mean little. */
export const LIMIT_OPTIONS_QUICK: LimitOptions = { caseSeconds: 0.3, webSocketWarmupMs: 50, syncedAppendBytesMax: 64 * MIB, fdatasyncSamples: 200 };

/** The write sizes a group commit produces, from a lone small batch to a full 1 MiB group. */
export const SYNCED_APPEND_WRITE_BYTES: readonly number[] = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB];
/** From one 100-byte record to a large fetch response. */
export const WEBSOCKET_FRAME_BYTES: readonly number[] = [100, 16 * KIB, 64 * KIB, MIB];
const CRC_BUFFER_BYTES = MIB;

/**
 * Measures this machine's limits for what Sluice does, on `dataDir` (files are created there and
 * removed): fdatasync'd appends, fdatasync latency, WebSocket loopback, CRC-32C. One thing at a
 * time, so that no measurement competes with another for the cores.
 */
export async function measureLimits(dataDir: string, log: (line: string) => void, options: LimitOptions = LIMIT_OPTIONS_FULL): Promise<LimitFigures> {
  const addons = reportNativeAddons();
  const syncedAppends = await measureSyncedAppends(dataDir, SYNCED_APPEND_WRITE_BYTES,
    { secondsMax: options.caseSeconds, bytesMax: options.syncedAppendBytesMax }, log);
  log(`fdatasync latency: ${options.fdatasyncSamples} samples ...`);
  const fdatasync = await measureFdatasyncLatency(join(dataDir, 'fdatasync-latency'),
    { samplesMax: options.fdatasyncSamples, secondsMax: options.caseSeconds * 2 });
  const webSocket = await measureWebSocketLoopback(WEBSOCKET_FRAME_BYTES,
    { secondsPerCase: options.caseSeconds, warmupMs: options.webSocketWarmupMs }, addons.websocketMasking, log);
  log(`CRC-32C on ${CRC_BUFFER_BYTES} B buffers (${addons.crc32c}) ...`);
  const crc = runCrcBench(CRC_BUFFER_BYTES, false);
  return {
    syncedAppends,
    fdatasyncLatencyMs: { p50: fdatasync.p50, p99: fdatasync.p99, p999: fdatasync.p999 },
    fdatasyncSamples: fdatasync.count,
    webSocket: webSocket.limits,
    crc32c: { implementation: crc.implementation === 'native' ? 'native' : 'js', megabytesPerSecond: crc.bytesPerSecond / 1e6 },
    bufferutil: webSocket.clientMasking === 'native' && webSocket.serverMasking === 'native',
  };
}
