import { join } from 'node:path';
import { Connection, Producer, expectOk, type ConnectionOptions, type ProducerOptions } from '../../src/client/index.js';
import { ApiKey, ListOffsetsSpec } from '../../src/protocol/index.js';
import { RECOVERY_POINT_CHECKPOINT_FILE } from '../../src/storage/log-manager.js';
import { readOffsetCheckpoint } from '../../src/storage/offset-checkpoint-file.js';
import { GrowthBroker, type BrokerLogLine } from './growth-broker.js';
import { startSendLoop, type SendCounts } from './send-loop.js';

/** A broker start on an existing data directory, timed from outside and from its own log lines. */
export interface RestartFigures {
  /** spawn() → "broker started" read from its stdout. */
  readonly spawnToStartedMs: number;
  /** The partition's open as the broker logged it: its "partition log loaded" line minus the line before. */
  readonly partitionOpenMs: number | null;
  /** From "partition log loaded": bytes recovery scanned batch by batch, segments, offsets. */
  readonly loaded: { readonly bytesScanned: number; readonly segmentCount: number; readonly logEndOffset: number; readonly indexesRebuilt: number } | null;
  /** Each start-up log line: ms after spawn, message (and partition, when it names one). */
  readonly timeline: readonly string[];
}

/** The SIGKILL-mid-stream case and its check. */
export interface RecoveryFigures {
  readonly streamedBeforeKill: { readonly sent: number; readonly acknowledged: number; readonly ackedOffsetMax: number | null; readonly seconds: number };
  /** The recovery point the broker had checkpointed for the partition when it was killed (null: none). */
  readonly recoveryPointAtKill: number | null;
  readonly afterKill: RestartFigures;
  readonly logEndOffsetAfterRestart: number;
  /** Every acknowledged offset is below the log end, and the newest acknowledged one was fetched back. */
  readonly acknowledgedAllPresent: boolean;
  readonly afterCleanStop: RestartFigures;
}

export interface RecoveryOptions {
  readonly dataDir: string;
  readonly topic: string;
  /** Records in the partition before the stream began (all acknowledged). */
  readonly recordsBefore: number;
  readonly connection: (port: number) => ConnectionOptions;
  readonly producerSettings: Partial<ProducerOptions>;
  readonly value: Uint8Array;
  readonly inFlightSendsMax: number;
  /** How long the stream runs before the SIGKILL. */
  readonly streamMs: number;
  readonly startTimeoutMs: number;
  readonly progress: (line: string) => void;
}

const POLL_MS = 20;

/**
 * SIGKILLs `broker` while a producer streams into `topic`, restarts it on the same directory and
 * times the start; checks that every acknowledged record is there (by offsets: cheap), then
 * stops it cleanly and times a clean start for comparison. Returns the broker left running.
 */
export async function killAndRecover(broker: GrowthBroker, options: RecoveryOptions): Promise<{ figures: RecoveryFigures; broker: GrowthBroker }> {
  const streamed = await streamThenKill(broker, options);
  const recoveryPointAtKill = await readRecoveryPoint(options.dataDir, options.topic);
  options.progress(`recovery: killed pid ${broker.pid} after ${streamed.acknowledged} acknowledged; recovery point ${recoveryPointAtKill}; restarting`);
  const restarted = await GrowthBroker.start(options.dataDir, options.startTimeoutMs);
  const afterKill = restartFigures(restarted, options.topic);
  let logEndOffsetAfterRestart: number;
  let acknowledgedAllPresent: boolean;
  try {
    ({ logEndOffsetAfterRestart, acknowledgedAllPresent } = await verify(options.connection(restarted.port), options.topic, options.recordsBefore, streamed));
  } catch (error) {
    await restarted.stop();
    throw error;
  }
  options.progress(`recovery: restarted in ${Math.round(afterKill.spawnToStartedMs)} ms; log end ${logEndOffsetAfterRestart}; stopping cleanly and starting again`);
  await restarted.stop();
  const clean = await GrowthBroker.start(options.dataDir, options.startTimeoutMs);
  const figures = { streamedBeforeKill: streamed, recoveryPointAtKill, afterKill, logEndOffsetAfterRestart, acknowledgedAllPresent, afterCleanStop: restartFigures(clean, options.topic) };
  return { figures, broker: clean };
}

// The counts are read just before the signal: anything acknowledged later was acknowledged too,
// so the check is conservative.
async function streamThenKill(broker: GrowthBroker, options: RecoveryOptions): Promise<RecoveryFigures['streamedBeforeKill']> {
  const producer = new Producer({ ...options.connection(broker.port), ...options.producerSettings });
  await producer.connect();
  let killing = false;
  const loop = startSendLoop({
    producer, topic: options.topic, value: options.value, recordCountMax: Number.MAX_SAFE_INTEGER, partitionOf: () => 0,
    inFlightSendsMax: options.inFlightSendsMax, stopSending: () => killing, progress: () => undefined,
  });
  const started = performance.now();
  while (performance.now() - started < options.streamMs && loop.counts.failed === 0) await sleep(POLL_MS);
  if (loop.counts.failed > 0) throw loop.counts.firstError;
  const snapshot: SendCounts = { ...loop.counts };
  killing = true;
  await broker.kill();
  const seconds = (performance.now() - started) / 1000;
  await loop.done;
  await producer.close(0);
  return { sent: snapshot.sent, acknowledged: snapshot.acknowledged, ackedOffsetMax: snapshot.ackedOffsetMax, seconds };
}

async function verify(connection: ConnectionOptions, topic: string, recordsBefore: number, streamed: RecoveryFigures['streamedBeforeKill']): Promise<{ logEndOffsetAfterRestart: number; acknowledgedAllPresent: boolean }> {
  const wire = await Connection.connect(connection);
  try {
    const listed = expectOk(await wire.request(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, spec: ListOffsetsSpec.latest, timestamp: 0 }] }));
    const logEndOffsetAfterRestart = listed.partitions[0]!.offset;
    const newest = streamed.ackedOffsetMax ?? recordsBefore - 1;
    const fetched = expectOk(await wire.request(ApiKey.Fetch, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
      partitions: [{ topic, partition: 0, fetchOffset: newest, partitionMaxBytes: 1 << 20 }],
    })).partitions[0]!;
    const newestReadable = fetched.errorCode === 0 && fetched.records.length > 0;
    const acknowledgedAllPresent = newestReadable && logEndOffsetAfterRestart >= newest + 1 && logEndOffsetAfterRestart >= recordsBefore + streamed.acknowledged;
    return { logEndOffsetAfterRestart, acknowledgedAllPresent };
  } finally {
    wire.close();
  }
}

function restartFigures(broker: GrowthBroker, topic: string): RestartFigures {
  const lines = broker.logLines;
  const loadedAt = lines.findIndex((line) => line.msg === 'partition log loaded' && line.fields.topic === topic);
  const loadedLine = lines[loadedAt];
  const before = lines[loadedAt - 1];
  const timeline = lines.slice(0, lines.findIndex((line) => line.msg === 'broker started') + 1).map((line) => describe(line, broker.timing.spawnedAtMs));
  return {
    spawnToStartedMs: broker.timing.spawnToStartedMs,
    partitionOpenMs: loadedLine === undefined || before === undefined ? null : loadedLine.time - before.time,
    loaded: loadedLine === undefined ? null : {
      bytesScanned: loadedLine.fields.bytesScanned as number, segmentCount: loadedLine.fields.segmentCount as number,
      logEndOffset: loadedLine.fields.logEndOffset as number, indexesRebuilt: loadedLine.fields.indexesRebuilt as number,
    },
    timeline,
  };
}

function describe(line: BrokerLogLine, spawnedAtMs: number): string {
  const where = typeof line.fields.topic === 'string' ? ` ${line.fields.topic}-${String(line.fields.partition)}` : '';
  return `+${line.time - spawnedAtMs} ms ${line.msg}${where}`;
}

// The checkpoint's entry for partition 0 of `topic`; null when the file or the entry is missing.
async function readRecoveryPoint(dataDir: string, topic: string): Promise<number | null> {
  const read = await readOffsetCheckpoint(join(dataDir, RECOVERY_POINT_CHECKPOINT_FILE));
  if (read.kind !== 'read') return null;
  return read.entries.find((entry) => entry.topic === topic && entry.partition === 0)?.offset ?? null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
