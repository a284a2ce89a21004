import { sendWindowed, splitEvenly } from '../../common/windowed-sends.js';
import { Redis } from 'ioredis';
import { LatencyRecorder, type LatencySummaryMs } from '../../common/latency.js';
import type { ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams, ThroughputFigures } from '../system.js';

/**
 * The comparison's workloads on Redis Streams through ioredis: XADD (one field, `v`, holding the
 * value) with a window of unanswered commands, XRANGE in large batches to read back, and a
 * blocking XREAD on its own connection for end-to-end latency. ioredis writes every command as
 * soon as it is called, so commands in flight are pipelined on the one connection; no MULTI.
 */

/** The one field each stream entry carries. */
const VALUE_FIELD = 'v';
/** Entries per XRANGE/XREAD reply when reading back. */
const READ_BATCH_ENTRIES = 10_000;
/** How long one blocking XREAD waits before it is reissued. */
const BLOCK_MS = 1_000;
/** Bound on any one workload beyond its own length. */
const WORKLOAD_TIMEOUT_MS = 600_000;
const END_TO_END_DRAIN_MS = 30_000;

/** Opens a new connection to the server under test. */
export type RedisConnect = () => Promise<Redis>;

/** Opens a connection on 127.0.0.1:`port` (RESP2, so stream replies have their classic shape). */
export async function connectRedis(port: number): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  await redis.connect();
  return redis;
}

/** (a) XADD `records` entries keeping at most `inFlight` unanswered. */
export async function produceThroughput(connect: RedisConnect, params: ProduceThroughputParams): Promise<ThroughputFigures> {
  const redis = await connect();
  try {
    const started = performance.now();
    await xaddWindowed(redis, params.stream, params.records, params.inFlight, 'v'.repeat(params.valueBytes));
    return { records: params.records, seconds: (performance.now() - started) / 1000 };
  } finally {
    redis.disconnect();
  }
}

/** (b) One XADD at a time, each awaited; latency of each. */
export async function produceSequential(connect: RedisConnect, params: SequentialProduceParams): Promise<LatencySummaryMs> {
  const redis = await connect();
  try {
    const value = 'v'.repeat(params.valueBytes);
    const recorder = new LatencyRecorder();
    for (let i = 0; i < params.records; i++) {
      const sentMs = performance.now();
      await redis.xadd(params.stream, '*', VALUE_FIELD, value);
      recorder.recordMs(performance.now() - sentMs);
    }
    return recorder.summary();
  } finally {
    redis.disconnect();
  }
}

/** (c) XRANGE from the start in batches until `records` entries are read. */
export async function consumeAll(connect: RedisConnect, params: ConsumeParams): Promise<ThroughputFigures> {
  const redis = await connect();
  try {
    const started = performance.now();
    const deadlineMs = started + WORKLOAD_TIMEOUT_MS;
    let read = 0;
    let start = '-';
    while (read < params.records && performance.now() < deadlineMs) {
      const entries = await redis.xrange(params.stream, start, '+', 'COUNT', READ_BATCH_ENTRIES);
      const last = entries.at(-1);
      if (last === undefined) break;
      read += entries.length;
      start = `(${last[0]}`;
    }
    const seconds = (performance.now() - started) / 1000;
    if (read !== params.records) throw new Error(`Redis consume read ${read} of ${params.records} entries`);
    return { records: read, seconds };
  } finally {
    redis.disconnect();
  }
}

/**
 * (d) XADD on a fixed schedule while a blocking XREAD reads on a second connection; each entry
 * carries its intended send time, so a stall counts against every entry it delayed.
 */
export async function endToEnd(connect: RedisConnect, params: EndToEndParams): Promise<LatencySummaryMs> {
  const [producer, consumer] = [await connect(), await connect()];
  try {
    const total = Math.round(params.ratePerSecond * params.seconds);
    const recorder = new LatencyRecorder();
    const deadlineMs = performance.now() + params.seconds * 1000 + END_TO_END_DRAIN_MS;
    const received = readBlocking(consumer, params.stream, total, deadlineMs, recorder);
    const sent = sendOnSchedule(producer, params, total);
    const [receivedCount] = await Promise.all([received, sent]);
    if (receivedCount !== total) throw new Error(`Redis end-to-end received ${receivedCount} of ${total} entries`);
    return recorder.summary();
  } finally {
    producer.disconnect();
    consumer.disconnect();
  }
}

/** (e) One connection per producer, each XADDing its share to its own stream key. */
export async function produceParallel(connect: RedisConnect, params: ParallelProduceParams, keys: readonly string[]): Promise<ThroughputFigures> {
  const connections = await Promise.all(keys.map(() => connect()));
  try {
    const value = 'v'.repeat(params.valueBytes);
    const shares = splitEvenly(params.records, keys.length);
    const started = performance.now();
    await Promise.all(keys.map((key, i) => xaddWindowed(connections[i]!, key, shares[i]!, params.inFlight, value)));
    return { records: params.records, seconds: (performance.now() - started) / 1000 };
  } finally {
    for (const redis of connections) redis.disconnect();
  }
}


function xaddWindowed(redis: Redis, key: string, records: number, inFlight: number, value: string): Promise<void> {
  return sendWindowed(records, inFlight, () => redis.xadd(key, '*', VALUE_FIELD, value));
}

async function sendOnSchedule(redis: Redis, params: EndToEndParams, total: number): Promise<void> {
  const started = performance.now();
  const unanswered = new Set<Promise<unknown>>();
  for (let i = 0; i < total; i++) {
    const intendedMs = started + (i * 1000) / params.ratePerSecond;
    const waitMs = intendedMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const reply: Promise<unknown> = redis.xadd(params.stream, '*', VALUE_FIELD, intendedMs.toFixed(3).padEnd(params.valueBytes, ' '));
    unanswered.add(reply);
    void reply.then(() => unanswered.delete(reply), () => undefined);
  }
  await Promise.all(unanswered);
}

async function readBlocking(redis: Redis, key: string, total: number, deadlineMs: number, recorder: LatencyRecorder): Promise<number> {
  // The key is fresh for each run, so reading from the very start sees every entry sent.
  let lastId = '0-0';
  let count = 0;
  while (count < total && performance.now() < deadlineMs) {
    const reply = await redis.xread('COUNT', READ_BATCH_ENTRIES, 'BLOCK', BLOCK_MS, 'STREAMS', key, lastId);
    const entries = reply?.[0]?.[1] ?? [];
    const receivedMs = performance.now();
    for (const [id, fields] of entries) {
      recorder.recordMs(receivedMs - Number(fields[1]));
      lastId = id;
      count += 1;
    }
  }
  return count;
}
