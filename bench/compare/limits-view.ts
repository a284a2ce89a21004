import type { LimitFigures, SyncedAppendLimit, WebSocketLimit } from '../limits/limit-figures.js';
import type { SystemResult } from './compare-results.js';

/**
 * Sluice's figures as a share of what this machine allows (bench/limits, measured in the same
 * run): 100% means at the limit. For throughput that is figure ÷ limit; for latency it is
 * floor ÷ figure, so both read the same way. Figures are medians; MB are 10^6 bytes (Sluice's MB/s
 * count record values only, the limits count every byte written or framed).
 */

/** One row of the view. `share` is null when either side is missing. */
export interface LimitRow {
  readonly figure: string;
  readonly sluice: number | null;
  readonly limit: number | null;
  readonly limitLabel: string;
  readonly unit: string;
  readonly share: number | null;
}

/** The rows for one Sluice system (the standalone broker, normally). */
export function limitsView(sluice: SystemResult, limits: LimitFigures, valueBytes: number): LimitRow[] {
  const bestAppend = best(limits.syncedAppends, (append) => append.megabytesPerSecond);
  const toServer = limits.webSocket.filter((ws) => ws.direction === 'client-to-server');
  const toClient = limits.webSocket.filter((ws) => ws.direction === 'server-to-client');
  const recordSizedFrame = closestFrame(toServer, valueBytes);
  const bestToServer = best(toServer, (ws) => ws.megabytesPerSecond);
  const bestToClient = best(toClient, (ws) => ws.megabytesPerSecond);
  const produceMBps = sluice.produce?.megabytesPerSecond?.median ?? null;
  const produceRps = sluice.produce?.recordsPerSecond?.median ?? null;
  const consumeMBps = sluice.consume?.megabytesPerSecond?.median ?? null;
  const sequentialP50 = sluice.sequential?.p50?.median ?? null;
  return [
    throughputRow('produce MB/s', produceMBps, bestAppend?.megabytesPerSecond ?? null, bestAppend === null ? 'fdatasync\'d appends: not measured' : `fdatasync'd appends of ${bestAppend.writeBytes} B`, 'MB/s'),
    throughputRow('produce records/s', produceRps, recordSizedFrame?.messagesPerSecond ?? null, recordSizedFrame === null ? 'WebSocket client→server: not measured' : `WebSocket client→server, ${recordSizedFrame.frameBytes} B frames`, 'msg/s'),
    throughputRow('produce MB/s', produceMBps, bestToServer?.megabytesPerSecond ?? null, bestToServer === null ? 'WebSocket client→server: not measured' : `WebSocket client→server, ${bestToServer.frameBytes} B frames`, 'MB/s'),
    throughputRow('consume MB/s', consumeMBps, bestToClient?.megabytesPerSecond ?? null, bestToClient === null ? 'WebSocket server→client: not measured' : `WebSocket server→client, ${bestToClient.frameBytes} B frames`, 'MB/s'),
    {
      figure: 'sequential produce p50 ms', sluice: sequentialP50, limit: limits.fdatasyncLatencyMs.p50,
      limitLabel: 'fdatasync p50 (floor of one acknowledged record)', unit: 'ms',
      share: sequentialP50 === null || sequentialP50 <= 0 ? null : limits.fdatasyncLatencyMs.p50 / sequentialP50,
    },
  ];
}

function throughputRow(figure: string, sluice: number | null, limit: number | null, limitLabel: string, unit: string): LimitRow {
  return { figure, sluice, limit, limitLabel, unit, share: sluice === null || limit === null || limit <= 0 ? null : sluice / limit };
}

function best<T extends SyncedAppendLimit | WebSocketLimit>(entries: readonly T[], score: (entry: T) => number): T | null {
  return entries.reduce<T | null>((top, entry) => (top === null || score(entry) > score(top) ? entry : top), null);
}

// The frame size nearest the record size: what one record per frame could reach.
function closestFrame(entries: readonly WebSocketLimit[], bytes: number): WebSocketLimit | null {
  return entries.reduce<WebSocketLimit | null>((top, entry) => (top === null || Math.abs(entry.frameBytes - bytes) < Math.abs(top.frameBytes - bytes) ? entry : top), null);
}
