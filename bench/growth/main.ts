import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Connection, Producer, expectOk, type ConnectionOptions, type ProducerOptions } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { ApiKey, ListOffsetsSpec } from '../../src/protocol/index.js';
import { describeMachine } from '../common/machine-info.js';
import { formatNumber } from '../common/table.js';
import { sampleFetches, type FetchSampleFigures } from './fetch-latency.js';
import { GrowthBroker } from './growth-broker.js';
import { dropPageCache, type DropOutcome } from './page-cache.js';
import { measurePartitionSpread } from './partition-spread.js';
import { killAndRecover } from './recovery.js';
import { printReport, writeResults, type GrowthFigures, type LogFetchFigures } from './report.js';
import { sendAll } from './send-loop.js';

/**
 * Issue 7's "cost with growth": does a broker get slower as its log and its partition count grow?
 * (1) Fetch latency of an old offset in a small and in a large log, page cache warm and dropped;
 * (2) produce throughput over 100 partitions against 1; (3) a restart after SIGKILL mid-stream
 * on the large log: how long, how much recovery scanned, and whether every acknowledged record
 * is there. One broker process on 127.0.0.1 per part, data in a temp directory removed at the end.
 */

const quick = process.argv.includes('--quick');
const MB = 1_000_000;
const KIB = 1024;
const MIB = 1024 * KIB;
const SIZES = {
  smallLogBytes: 10 * MB,
  largeLogBytes: quick ? 200 * MB : 5_000 * MB,
  fillValueBytes: KIB,
  fetchSamplesWarm: quick ? 100 : 500,
  fetchSamplesCold: quick ? 50 : 500,
  /** Offsets are drawn from the first this fraction of the log: old data, far from the active segment. */
  oldFraction: 0.1,
  spreadRecords: quick ? 100_000 : 300_000,
  spreadValueBytes: 100,
  spreadRunsPerCount: quick ? 1 : 3,
  streamBeforeKillMs: quick ? 500 : 2_000,
};
const PRODUCER_SETTINGS: Partial<ProducerOptions> = { acks: 1, lingerMs: 0, batchBytes: 256 * KIB, bufferBytesMax: 64 * MIB };
const IN_FLIGHT_SENDS_MAX = 20_000;
const BROKER_START_TIMEOUT_MS = 300_000;
const RANDOM_SEED = 7;

async function main(): Promise<void> {
  const dataDirs: string[] = [];
  const brokers: GrowthBroker[] = [];
  const newDataDir = async (name: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), `sluice-bench-growth-${name}-`));
    dataDirs.push(dir);
    return dir;
  };
  const track = (broker: GrowthBroker): GrowthBroker => { brokers.push(broker); return broker; };
  const stopAll = (): void => { for (const broker of brokers) void broker.kill(); };
  process.once('SIGINT', stopAll);
  try {
    const spreadDir = await newDataDir('spread');
    const spreadBroker = track(await GrowthBroker.start(spreadDir, BROKER_START_TIMEOUT_MS));
    const spread = await measurePartitionSpread({
      connection: connectionTo(spreadBroker.port), producerSettings: PRODUCER_SETTINGS, recordCount: SIZES.spreadRecords,
      valueBytes: SIZES.spreadValueBytes, inFlightSendsMax: IN_FLIGHT_SENDS_MAX, partitionCounts: [1, 100], runsPerCount: SIZES.spreadRunsPerCount, progress,
    });
    await spreadBroker.stop();
    await rm(spreadDir, { recursive: true, force: true });

    const dataDir = await newDataDir('logs');
    const broker = track(await GrowthBroker.start(dataDir, BROKER_START_TIMEOUT_MS));
    const small = await fillTopic(broker.port, dataDir, 'small', SIZES.smallLogBytes);
    const large = await fillTopic(broker.port, dataDir, 'large', SIZES.largeLogBytes);
    const fetches = await measureFetches(broker.port, [small, large]);
    const { figures: recovery, broker: last } = await killAndRecover(broker, {
      dataDir, topic: 'large', recordsBefore: large.records, connection: connectionTo, producerSettings: PRODUCER_SETTINGS,
      value: fillValue(), inFlightSendsMax: IN_FLIGHT_SENDS_MAX, streamMs: SIZES.streamBeforeKillMs, startTimeoutMs: BROKER_START_TIMEOUT_MS, progress,
    });
    track(last);
    const machine = await describeMachine(dataDir);
    await last.stop();
    const figures: GrowthFigures = { sizes: SIZES, producerSettings: PRODUCER_SETTINGS, randomSeed: RANDOM_SEED, ...fetches, spread, recovery };
    printReport(figures, quick);
    if (!process.argv.includes('--no-results')) await writeResults({ machine, quick, figures });
  } finally {
    for (const broker of brokers) await broker.kill();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }
}

interface FilledLog {
  readonly topic: string;
  readonly records: number;
  readonly logBytes: number;
  readonly fillSeconds: number;
}

async function fillTopic(port: number, dataDir: string, topic: string, bytes: number): Promise<FilledLog> {
  const admin = new Admin(connectionTo(port));
  await admin.connect();
  await admin.createTopic(topic, 1);
  admin.close();
  const producer = new Producer({ ...connectionTo(port), ...PRODUCER_SETTINGS });
  await producer.connect();
  const records = Math.ceil(bytes / SIZES.fillValueBytes);
  try {
    const fillSeconds = await sendAll({
      producer, topic, value: fillValue(), recordCountMax: records, partitionOf: () => 0, inFlightSendsMax: IN_FLIGHT_SENDS_MAX,
      progress: (sent) => progress(`fill ${topic}: ${formatNumber((sent * SIZES.fillValueBytes) / MB, 0)} / ${formatNumber(bytes / MB, 0)} MB`),
    });
    const logBytes = await segmentBytes(join(dataDir, `${topic}-0`));
    progress(`fill ${topic}: ${formatNumber(logBytes / MB, 0)} MB of log in ${formatNumber(fillSeconds, 1)} s`);
    return { topic, records, logBytes, fillSeconds };
  } finally {
    await producer.close();
  }
}

// Warm: the same offsets fetched twice, the second pass timed (every page in the cache). Cold:
// the page cache dropped before every fetch, so each reads the disk (only when root can).
async function measureFetches(port: number, logs: readonly FilledLog[]): Promise<Pick<GrowthFigures, 'fetch' | 'pageCacheDrop'>> {
  const connection = await Connection.connect(connectionTo(port));
  const fetch: LogFetchFigures[] = [];
  let pageCacheDrop: DropOutcome = await dropPageCache();
  try {
    for (const log of logs) {
      const logEndOffset = await logEndOffsetOf(connection, log.topic);
      const sample = (samples: number, beforeEach?: () => Promise<void>): Promise<FetchSampleFigures> => sampleFetches(connection, {
        topic: log.topic, logEndOffset, oldFraction: SIZES.oldFraction, samples, fetchBytesMax: 256 * KIB, random: seededRandom(RANDOM_SEED), beforeEach,
      });
      progress(`fetch ${log.topic}: warm, ${SIZES.fetchSamplesWarm} fetches (after one untimed pass)`);
      await sample(SIZES.fetchSamplesWarm);
      const warm = await sample(SIZES.fetchSamplesWarm);
      let cold: FetchSampleFigures | null = null;
      if (pageCacheDrop.dropped) {
        progress(`fetch ${log.topic}: cold, ${SIZES.fetchSamplesCold} fetches, page cache dropped before each`);
        cold = await sample(SIZES.fetchSamplesCold, async () => { pageCacheDrop = await dropPageCache(); if (!pageCacheDrop.dropped) throw new Error(pageCacheDrop.reason); });
      }
      fetch.push({ ...log, logEndOffset, warm, cold });
    }
  } finally {
    connection.close();
  }
  return { fetch, pageCacheDrop };
}

async function logEndOffsetOf(connection: Connection, topic: string): Promise<number> {
  const listed = expectOk(await connection.request(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, spec: ListOffsetsSpec.latest, timestamp: 0 }] }));
  return listed.partitions[0]!.offset;
}

async function segmentBytes(directory: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(directory)) if (name.endsWith('.log')) total += (await stat(join(directory, name))).size;
  return total;
}

function connectionTo(port: number): ConnectionOptions {
  return { url: `ws://127.0.0.1:${port}`, webSocketFactory: nodeWebSocket, clientId: 'bench-growth' };
}

function fillValue(): Uint8Array {
  return new Uint8Array(SIZES.fillValueBytes).fill(0x76);
}

// mulberry32: a small seeded generator, so a run's offsets can be drawn again.
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
