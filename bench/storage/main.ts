#!/usr/bin/env node
/**
 * Storage bench: PartitionLog appends under group commit, a sequential read, and the raw
 * write+fdatasync limit of the same disk from Node, all in one run on a temp data dir under
 * os.tmpdir() (removed afterwards). Prints tables to stdout, progress to stderr, and writes the
 * full results as JSON to bench/results/. Run with `npm run bench` (builds first);
 * `--help` lists the flags. Every number is measured in this run; nothing is estimated.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { loadBrokerConfig } from '../../src/config/broker-config.js';
import { logConfigOf } from '../../src/config/log-config-of.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { runAppendCase, type AppendCaseResult } from './append-bench.js';
import { encodeTemplateBatch, pseudoRandomBytes } from './batches.js';
import { parseBenchOptions, type AppendCaseSpec, type BenchOptions } from './bench-options.js';
import { runCrcBench } from './crc-bench.js';
import { describeMachine } from '../common/machine-info.js';
import { runRawSyncCase, type RawSyncResult } from './raw-disk-bench.js';
import { runReadBench, type ReadResult } from './read-bench.js';
import { formatReport, writeResults, type StorageBenchResults } from './report.js';
import { StallError } from './stall-watchdog.js';
import { runValidateBench } from './validate-bench.js';

const MIB = 1024 * 1024;
const READ_BYTES_MAX = MIB;
const READ_CASE_RECORDS_PER_BATCH = 100;
const RAW_SMALL_WRITES_MAX = 1_000_000;

const progress = (line: string): void => { process.stderr.write(`${line}\n`); };

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv, fileURLToPath(new URL('../../../bench/results', import.meta.url)));
  const tempRoot = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const removeOnSignal = (): void => {
    rmSync(tempRoot, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', removeOnSignal);
  process.once('SIGTERM', removeOnSignal);
  try {
    const results = await runAll(options, tempRoot);
    process.stdout.write(`${formatReport(results)}\n`);
    if (options.resultsDir !== null) {
      const paths = await writeResults(options.resultsDir, results);
      progress(`wrote ${paths.join(' and ')}`);
    }
  } finally {
    await rm(tempRoot, { recursive: true, force: true });
  }
}

async function runAll(options: BenchOptions, tempRoot: string): Promise<StorageBenchResults> {
  const machine = await describeMachine(tempRoot);
  // Production defaults, retention off so that no case loses segments to it.
  const logConfig = logConfigOf(loadBrokerConfig({ flags: { retentionMs: null, retentionBytes: null } }));
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const append: AppendCaseResult[] = [];
  let read: ReadResult | null = null;
  for (const spec of options.appendCases) {
    const wantRead = spec.recordsPerBatch === READ_CASE_RECORDS_PER_BATCH;
    const measured = await appendCase(options, spec, logConfig, logger, join(tempRoot, `log-${spec.recordsPerBatch}`), wantRead);
    append.push(measured.append);
    read ??= measured.read;
  }
  if (read === null) throw new Error(`no append case with ${READ_CASE_RECORDS_PER_BATCH} records per batch to read back`);
  const raw = await rawCases(options, append, tempRoot);
  progress('CRC-32C speed ...');
  const crc = runCrcBench(options.crcBufferBytes, options.quick);
  progress('append CPU path (copy, validate, stamp) ...');
  const validate = options.appendCases.map((spec) => runValidateBench(spec.recordsPerBatch, options.valueBytes, logConfig.batchBytesMax, options.quick));
  return {
    formatVersion: 1, quick: options.quick, caseSecondsMax: options.caseSecondsMax, valueBytes: options.valueBytes,
    machine, logConfig, append, read, raw, crc, validate,
  };
}

// One fresh log per case, so that cases do not share segments, caches or counters.
async function appendCase(
  options: BenchOptions, spec: AppendCaseSpec, config: LogConfig, logger: Logger, directory: string, wantRead: boolean,
): Promise<{ append: AppendCaseResult; read: ReadResult | null }> {
  await mkdir(directory);
  let fatal: Error | null = null;
  const log = await PartitionLog.open({
    directory, config, recoveryPoint: null, highWatermark: null, highWatermarkFollowsFlush: true,
    nowMs: () => Date.now(), logger, onFatal: (error) => { fatal ??= error; },
  });
  // After a stall the committer may never answer again; closing would wait on it forever.
  let closeLog = true;
  try {
    progress(`append: ${spec.recordsPerBatch} record(s)/batch, ${spec.concurrency} in flight, up to ${options.caseSecondsMax} s ...`);
    const append = await runAppendCase(log, spec, options);
    let read: ReadResult | null = null;
    if (wantRead) {
      progress(`read: ${append.records} records back from offset 0 ...`);
      read = await runReadBench(log, READ_BYTES_MAX);
    }
    if (fatal !== null) throw new Error('the log reported a fatal storage error', { cause: fatal });
    return { append, read };
  } catch (error) {
    if (error instanceof StallError) closeLog = false;
    throw error;
  } finally {
    if (closeLog) await log.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function rawCases(options: BenchOptions, append: readonly AppendCaseResult[], tempRoot: string): Promise<StorageBenchResults['raw']> {
  const secondsMax = options.caseSecondsMax;
  const oneRecord = encodeTemplateBatch(1, options.valueBytes, Date.now());
  progress('raw: one 1-record batch write + fdatasync at a time ...');
  const smallWriteSync = await runRawSyncCase(join(tempRoot, 'raw-small'), {
    label: '(a) 1-record batch + fdatasync', buffers: [oneRecord], recordsPerWrite: 1,
    writesMax: options.quick ? 200 : RAW_SMALL_WRITES_MAX, secondsMax,
  });
  progress('raw: 1 MiB write + fdatasync ...');
  const chunkWriteSync = await runRawSyncCase(join(tempRoot, 'raw-chunk'), {
    label: '(b) 1 MiB write + fdatasync', buffers: [pseudoRandomBytes(MIB, 0xc0ffee)], recordsPerWrite: null,
    writesMax: Math.ceil(options.rawChunkBytesMax / MIB), secondsMax,
  });
  const groupedWriteSync: RawSyncResult[] = [];
  const fullGroupWriteSync: RawSyncResult[] = [];
  for (const [index, measured] of append.entries()) {
    const spec = options.appendCases[index]!;
    const measuredGroup = Math.max(1, Math.round(measured.appendsPerSync));
    groupedWriteSync.push(await groupedCase(options, spec, measuredGroup, '(c)', tempRoot));
    fullGroupWriteSync.push(await groupedCase(options, spec, spec.concurrency, '(d)', tempRoot));
  }
  return { smallWriteSync, chunkWriteSync, groupedWriteSync, fullGroupWriteSync };
}

// `groupSize` copies of the case's batch per writev, as one group commit of that size writes.
async function groupedCase(options: BenchOptions, spec: AppendCaseSpec, groupSize: number, tag: string, tempRoot: string): Promise<RawSyncResult> {
  const template = encodeTemplateBatch(spec.recordsPerBatch, options.valueBytes, Date.now());
  progress(`raw: writev of ${groupSize} x ${spec.recordsPerBatch}-record batches + fdatasync ...`);
  return runRawSyncCase(join(tempRoot, `raw-grouped-${spec.recordsPerBatch}-${groupSize}`), {
    label: `${tag} writev ${groupSize} x ${spec.recordsPerBatch}-rec batch + fdatasync`,
    buffers: Array.from({ length: groupSize }, () => template.slice()),
    recordsPerWrite: groupSize * spec.recordsPerBatch,
    writesMax: Math.ceil(spec.batchesMax / groupSize),
    secondsMax: options.caseSecondsMax,
  });
}

try {
  await main();
} catch (error) {
  if (error instanceof StallError) progress(`STALLED: ${error.message}\nstate: ${JSON.stringify(error.state)}`);
  throw error;
}
