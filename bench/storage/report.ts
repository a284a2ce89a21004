import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogConfig } from '../../src/storage/log-config.js';
import type { AppendCaseResult } from './append-bench.js';
import type { CrcResult } from './crc-bench.js';
import type { MachineInfo } from '../common/machine-info.js';
import type { RawSyncResult } from './raw-disk-bench.js';
import type { ReadResult } from './read-bench.js';
import type { ValidateResult } from './validate-bench.js';
import { formatMegabytesPerSecond, formatMs, formatNumber, formatTable } from '../common/table.js';

/** Everything one run measured; written as JSON. */
export interface StorageBenchResults {
  readonly formatVersion: 1;
  readonly quick: boolean;
  readonly caseSecondsMax: number;
  readonly valueBytes: number;
  readonly machine: MachineInfo;
  readonly logConfig: LogConfig;
  readonly append: readonly AppendCaseResult[];
  /** Of the log written by the 100-records-per-batch case. */
  readonly read: ReadResult;
  readonly raw: {
    readonly smallWriteSync: RawSyncResult;
    readonly chunkWriteSync: RawSyncResult;
    /** One per append case, in the same order, grouped as that case's measured appendsPerSync. */
    readonly groupedWriteSync: readonly RawSyncResult[];
    /** One per append case: every in-flight append in one writev, what perfect grouping would give. */
    readonly fullGroupWriteSync: readonly RawSyncResult[];
  };
  readonly crc: CrcResult;
  /** Per append case: the synchronous CPU work of one append, without I/O. */
  readonly validate: readonly ValidateResult[];
}

/** The human-readable report: machine line, then one table per part. */
export function formatReport(results: StorageBenchResults): string {
  const machine = results.machine;
  const mount = machine.dataDir.mount;
  const lines = [
    `Sluice storage bench — ${machine.dateIso}${results.quick ? '  [QUICK RUN: numbers are not meaningful]' : ''}`,
    `${machine.osType} ${machine.osRelease} ${machine.arch}, ${machine.cpuCount} x ${machine.cpuModel}, ${formatNumber(machine.memoryBytes / 2 ** 30, 1)} GiB RAM, Node ${machine.nodeVersion}`,
    `data dir ${machine.dataDir.path} on ${mount === null ? `statfs type ${machine.dataDir.statfsType}` : `${mount.device} (${mount.fsType}, ${mount.options})`}, ${formatNumber(machine.dataDir.freeBytes / 1e9, 1)} GB free`,
    `values ${results.valueBytes} B, each case capped at ${results.caseSecondsMax} s or its batch cap; MB = 10^6 bytes; latency = call to durable resolve`,
    '',
    '1. PartitionLog.append with group commit (closed loop: each of "in flight" producers awaits its append, then issues the next)',
    formatAppendTable(results.append),
    '',
    '1b. Group commit detail: appends per fsync, observed fsync by fsync; main-thread (event loop) busy; process CPU in cores',
    formatGroupTable(results.append),
    '',
    `2. PartitionLog.read of the ${formatNumber(results.read.records, 0)}-record log from offset 0, following nextOffset, maxBytes ${formatNumber(results.read.readBytesMax, 0)} (page cache WARM: just written)`,
    formatReadTable(results.read),
    '',
    '3. Raw limit: Node FileHandle, fresh file, sequential, each write(v) followed by fdatasync before the next',
    formatRawTable(results.raw),
    '',
    '4. Log vs raw writev of the same group size (c), and of every in-flight append in one group (d)',
    formatComparisonTable(results.append, results.raw),
    '',
    '5. CPU: what append does synchronously per batch before queueing it (copy, validateProducedBatch, stampBatch), one core, no I/O',
    formatValidateTable(results.validate),
    '',
    `CRC-32C: ${results.crc.implementation}, ${formatNumber(results.crc.bytesPerSecond / 1e9, 2)} GB/s on a ${formatNumber(results.crc.bufferBytes / 2 ** 20, 0)} MiB buffer (${results.crc.passes} passes)`,
  ];
  return lines.join('\n');
}

function formatAppendTable(cases: readonly AppendCaseResult[]): string {
  return formatTable([
    { header: 'records/batch', align: 'right' }, { header: 'in flight', align: 'right' }, { header: 'batch B', align: 'right' },
    { header: 'appends', align: 'right' }, { header: 'secs', align: 'right' }, { header: 'records/s', align: 'right' },
    { header: 'MB/s', align: 'right' }, { header: 'fsyncs/s', align: 'right' }, { header: 'appends/fsync', align: 'right' },
    { header: 'p50 ms', align: 'right' }, { header: 'p99 ms', align: 'right' }, { header: 'max ms', align: 'right' },
    { header: 'stop', align: 'left' },
  ], cases.map((c) => [
    formatNumber(c.recordsPerBatch, 0), formatNumber(c.concurrency, 0), formatNumber(c.batchBytes, 0),
    formatNumber(c.batches, 0), formatNumber(c.elapsedMs / 1000, 2), formatNumber(c.recordsPerSecond, 0),
    formatMegabytesPerSecond(c.bytesPerSecond), formatNumber(c.syncsPerSecond, 0), formatNumber(c.appendsPerSync, 1),
    formatMs(c.latencyMs.p50), formatMs(c.latencyMs.p99), formatMs(c.latencyMs.max), c.stoppedBy,
  ]));
}

function formatGroupTable(cases: readonly AppendCaseResult[]): string {
  return formatTable([
    { header: 'records/batch', align: 'right' }, { header: 'in flight', align: 'right' }, { header: 'fsyncs', align: 'right' },
    { header: 'appends/fsync', align: 'right' }, { header: 'min', align: 'right' }, { header: 'p10', align: 'right' },
    { header: 'p50', align: 'right' }, { header: 'p90', align: 'right' }, { header: 'max', align: 'right' },
    { header: '1-append fsyncs', align: 'right' }, { header: 'loop busy', align: 'right' }, { header: 'CPU cores', align: 'right' },
  ], cases.map((c) => [
    formatNumber(c.recordsPerBatch, 0), formatNumber(c.concurrency, 0), formatNumber(c.syncCount, 0), formatNumber(c.appendsPerSync, 1),
    formatNumber(c.groupSizes.min, 0), formatNumber(c.groupSizes.p10, 0), formatNumber(c.groupSizes.p50, 0),
    formatNumber(c.groupSizes.p90, 0), formatNumber(c.groupSizes.max, 0), formatPercent(c.groupSizes.singleAppendFraction),
    formatPercent(c.cpu.eventLoopUtilization), formatNumber(c.cpu.coresBusy, 2),
  ]));
}

function formatValidateTable(cases: readonly ValidateResult[]): string {
  return formatTable([
    { header: 'records/batch', align: 'right' }, { header: 'batch B', align: 'right' }, { header: 'batches', align: 'right' },
    { header: 'µs/batch', align: 'right' }, { header: 'records/s (1 core)', align: 'right' }, { header: 'MB/s (1 core)', align: 'right' },
  ], cases.map((c) => [
    formatNumber(c.recordsPerBatch, 0), formatNumber(c.batchBytes, 0), formatNumber(c.batches, 0), formatNumber(c.microsecondsPerBatch, 1),
    formatNumber(c.recordsPerSecond, 0), formatMegabytesPerSecond((c.batches * c.batchBytes) / (c.elapsedMs / 1000)),
  ]));
}

function formatPercent(fraction: number): string {
  return `${formatNumber(100 * fraction, 0)}%`;
}

function formatReadTable(read: ReadResult): string {
  return formatTable([
    { header: 'records', align: 'right' }, { header: 'batches', align: 'right' }, { header: 'MB', align: 'right' },
    { header: 'read calls', align: 'right' }, { header: 'secs', align: 'right' }, { header: 'records/s', align: 'right' },
    { header: 'MB/s', align: 'right' },
  ], [[
    formatNumber(read.records, 0), formatNumber(read.batches, 0), formatNumber(read.bytes / 1e6, 1), formatNumber(read.readCalls, 0),
    formatNumber(read.elapsedMs / 1000, 2), formatNumber(read.recordsPerSecond, 0), formatMegabytesPerSecond(read.bytesPerSecond),
  ]]);
}

function formatRawTable(raw: StorageBenchResults['raw']): string {
  const rows = [raw.smallWriteSync, raw.chunkWriteSync, ...raw.groupedWriteSync, ...raw.fullGroupWriteSync].map((r) => [
    r.label, formatNumber(r.bytesPerWrite, 0), formatNumber(r.writes, 0), formatNumber(r.elapsedMs / 1000, 2),
    formatNumber(r.writesPerSecond, 0), formatMegabytesPerSecond(r.bytesPerSecond),
    r.recordsPerSecond === null ? '-' : formatNumber(r.recordsPerSecond, 0),
    formatMs(r.latencyMs.p50), formatMs(r.latencyMs.p99), formatMs(r.latencyMs.max),
    formatPercent(r.cpu.eventLoopUtilization), r.stoppedBy,
  ]);
  return formatTable([
    { header: 'case', align: 'left' }, { header: 'bytes/write', align: 'right' }, { header: 'writes', align: 'right' },
    { header: 'secs', align: 'right' }, { header: 'fsyncs/s', align: 'right' }, { header: 'MB/s', align: 'right' },
    { header: 'records/s', align: 'right' }, { header: 'p50 ms', align: 'right' }, { header: 'p99 ms', align: 'right' },
    { header: 'max ms', align: 'right' }, { header: 'loop busy', align: 'right' }, { header: 'stop', align: 'left' },
  ], rows);
}

function formatComparisonTable(cases: readonly AppendCaseResult[], raw: StorageBenchResults['raw']): string {
  const rows = cases.map((c, index) => {
    const grouped = raw.groupedWriteSync[index]!;
    const full = raw.fullGroupWriteSync[index]!;
    const groupedRecordsPerSecond = grouped.recordsPerSecond ?? 0;
    return [
      formatNumber(c.recordsPerBatch, 0), formatNumber(c.appendsPerSync, 1), formatNumber(grouped.buffersPerWrite, 0),
      formatNumber(c.syncsPerSecond, 0), formatNumber(grouped.writesPerSecond, 0),
      formatNumber(c.recordsPerSecond, 0), formatNumber(groupedRecordsPerSecond, 0),
      groupedRecordsPerSecond === 0 ? '-' : formatPercent(c.recordsPerSecond / groupedRecordsPerSecond),
      formatNumber(full.buffersPerWrite, 0), formatNumber(full.recordsPerSecond ?? 0, 0),
    ];
  });
  return formatTable([
    { header: 'records/batch', align: 'right' }, { header: 'log appends/fsync', align: 'right' }, { header: '(c) batches/writev', align: 'right' },
    { header: 'log fsyncs/s', align: 'right' }, { header: '(c) fsyncs/s', align: 'right' },
    { header: 'log records/s', align: 'right' }, { header: '(c) records/s', align: 'right' }, { header: 'log/(c)', align: 'right' },
    { header: '(d) batches/writev', align: 'right' }, { header: '(d) records/s', align: 'right' },
  ], rows);
}

/** Writes storage-<date>.json and storage-latest.json into `directory`; returns their paths. */
export async function writeResults(directory: string, results: StorageBenchResults): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.machine.dateIso.replace(/[:.]/g, '-');
  const paths = [join(directory, `storage-${stamp}.json`), join(directory, 'storage-latest.json')];
  for (const path of paths) await writeFile(path, json);
  return paths;
}
