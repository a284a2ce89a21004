import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineInfo } from '../common/machine-info.js';
import { formatMs, formatNumber, formatTable } from '../common/table.js';
import type { LimitFigures } from './limit-figures.js';

/** One standalone run of bench/limits; written as JSON. */
export interface LimitsResults {
  readonly formatVersion: 1;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly elapsedSeconds: number;
  /** os.loadavg()[0] before and after: on a shared machine, how much else was running. */
  readonly loadAverage1m: { readonly atStart: number; readonly atEnd: number };
  readonly limits: LimitFigures;
}

/** The limits as plain-text tables, for a terminal or a report. */
export function formatLimits(limits: LimitFigures): string {
  const appends = formatTable(
    [{ header: 'write', align: 'right' }, { header: 'appends/s', align: 'right' }, { header: 'MB/s', align: 'right' }],
    limits.syncedAppends.map((limit) => [formatSize(limit.writeBytes), formatNumber(limit.appendsPerSecond, 0), formatNumber(limit.megabytesPerSecond, 1)]),
  );
  const latency = limits.fdatasyncLatencyMs;
  const webSocket = formatTable(
    [{ header: 'frame', align: 'right' }, { header: 'direction', align: 'left' }, { header: 'messages/s', align: 'right' }, { header: 'MB/s', align: 'right' }],
    limits.webSocket.map((limit) => [
      formatSize(limit.frameBytes), limit.direction === 'client-to-server' ? 'client→server' : 'server→client',
      formatNumber(limit.messagesPerSecond, 0), formatNumber(limit.megabytesPerSecond, 1),
    ]),
  );
  return [
    'fdatasync\'d appends: one write at the end of a growing file, then fdatasync (FileHandle, as LogSegment)',
    appends,
    '',
    `fdatasync after a 1-record write: p50 ${formatMs(latency.p50)} ms, p99 ${formatMs(latency.p99)} ms, p99.9 ${formatMs(latency.p999)} ms (${formatNumber(limits.fdatasyncSamples, 0)} samples)`,
    '',
    `WebSocket loopback, one way (ws; server in a child process; bufferutil ${limits.bufferutil ? 'native on both ends' : 'NOT native'})`,
    webSocket,
    '',
    `CRC-32C (fast-crc32c, ${limits.crc32c.implementation}): ${formatNumber(limits.crc32c.megabytesPerSecond, 0)} MB/s on 1 MiB buffers`,
  ].join('\n');
}

/** The human-readable report of a standalone run: machine lines, then the tables. */
export function formatLimitsReport(results: LimitsResults): string {
  const machine = results.machine;
  const mount = machine.dataDir.mount;
  return [
    `Sluice machine limits — ${machine.dateIso}${results.quick ? '  [QUICK RUN: numbers are not meaningful]' : ''}`,
    `${machine.osType} ${machine.osRelease} ${machine.arch}, ${machine.cpuCount} x ${machine.cpuModel}, Node ${machine.nodeVersion}`,
    `data dir ${machine.dataDir.path} on ${mount === null ? `statfs type ${machine.dataDir.statfsType}` : `${mount.device} (${mount.fsType}, ${mount.options})`}`,
    `MB = 10^6 bytes; measured in ${formatNumber(results.elapsedSeconds, 1)} s; 1-minute load average ${formatNumber(results.loadAverage1m.atStart, 2)} before, ${formatNumber(results.loadAverage1m.atEnd, 2)} after`,
    '',
    formatLimits(results.limits),
  ].join('\n');
}

/** Writes limits-<date>.json and limits-latest.json; returns their paths. */
export async function writeLimitsResults(directory: string, results: LimitsResults): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.machine.dateIso.replace(/[:.]/g, '-');
  const paths = [join(directory, `limits-${stamp}.json`), join(directory, 'limits-latest.json')];
  for (const path of paths) await writeFile(path, json);
  return paths;
}

// 100 B, 16 KiB, 1 MiB: the sizes are powers of two or small, so this is exact.
function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
