import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_ENCODERS, encodeFrame, type RequestByApiKey } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { connectionGauge, isAlive, pollUntil, rssBytesOf } from '../helpers/broker-observer.js';
import { CliProcess, runCli } from '../helpers/process.js';
import { Opcode, encodeClientFrame, upgrade, upgradeRequest, writeAll } from '../helpers/raw-websocket.js';
import { mulberry32 } from '../helpers/random.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

/**
 * Issue 5: "Slow consumers and clients that vanish mid-request do not grow the broker's memory
 * without bound." One broker process, small per-connection limits, and its RSS read from
 * /proc/<pid>/status while clients that never read pull at it and clients that disappear halfway
 * through frames come and go.
 */

const MIB = 1024 * 1024;
const MB = 1_000_000;
const SEND_QUEUE_BYTES_MAX = 8 * MIB;
const MAX_FRAME_BYTES = 2 * MIB;
const CREDIT_BYTES_MAX = 4 * MIB;
const MAX_IN_FLIGHT = 32;
const MAX_CONNECTIONS = 16;
const SLOW_TOPIC = 'slow';
const VANISH_TOPIC = 'vanish';

/** What the producer writes while the slow consumers pull: 200 MB in batches of ~260 KB, paced so they pull for ~8 s. */
const PRODUCE_BYTES_TOTAL = 200 * MB;
const PRODUCE_BYTES_PER_S = 25 * MB;
const RECORDS_PER_BATCH = 256;
const VALUE_BYTES = 1_000;
const PRODUCE_WINDOW = 8;
const PRODUCE_ACK_TIMEOUT_MS = 30_000;
/** Slow consumers send a request this often, never reading an answer, up to a bound. */
const SLOW_REQUEST_INTERVAL_MS = 20;
const SLOW_REQUESTS_MAX = 5_000;
const RSS_SAMPLE_INTERVAL_MS = 50;
/** How long RSS is still watched after the slow consumers vanish with their requests unread. */
const AFTER_VANISH_WATCH_MS = 2_000;
/** The memory bound of the issue: a few send queues' worth over where the broker started, plus slack for the heap. */
const RSS_SLACK_BYTES = 100 * MB;

const VANISH_ROUNDS = 400;
const VANISH_CONCURRENCY = 8;

let broker: CliProcess;
let port: number;
let dataDir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-slow-clients-'));
  broker = CliProcess.start([
    'broker', '--port', '0', '--data-dir', dataDir, '--log-level', 'debug',
    '--send-queue-bytes-max', String(SEND_QUEUE_BYTES_MAX), '--max-frame-bytes', String(MAX_FRAME_BYTES),
    '--credit-bytes-max', String(CREDIT_BYTES_MAX), '--max-in-flight-requests-per-connection', String(MAX_IN_FLIGHT),
    '--max-connections', String(MAX_CONNECTIONS), '--offsets-topic-partition-count', '1',
  ]);
  port = (await broker.waitForLog('broker started')).port as number;
  const admin = await WireClient.ready(port);
  const created = await admin.request(ApiKey.CreateTopics, { topics: [
    { name: SLOW_TOPIC, partitionCount: 1, replicationFactor: 1 }, { name: VANISH_TOPIC, partitionCount: 2, replicationFactor: 1 },
  ] });
  if (created.headerOnly || created.results.some((result) => result.errorCode !== 0)) throw new Error(`could not create topics: ${JSON.stringify(created)}`);
  admin.close();
});

afterAll(async () => {
  if (isAlive(broker.pid)) expect(await broker.stop()).toBe(0);
  await cleanup();
});

function requestFrame<K extends ApiKey>(apiKey: K, correlationId: number, request: RequestByApiKey[K]): Uint8Array {
  const encode = REQUEST_ENCODERS[apiKey] as (value: RequestByApiKey[K]) => Uint8Array;
  return encodeFrame({ kind: FrameKind.request, apiKey, apiVersion: API_VERSION, correlationId }, encode(request));
}

function bigBatch(): Uint8Array {
  const value = new Uint8Array(VALUE_BYTES).fill(0x61);
  return encodeRecordBatch({ records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: null, value, headers: [], timestamp: 1_700_000_000_000 + i })) });
}

/** Samples the broker's RSS every RSS_SAMPLE_INTERVAL_MS until stopped; returns the peak. */
function sampleRss(pid: number): { stop: () => { peakBytes: number; samples: number } } {
  let peakBytes = 0;
  let samples = 0;
  const timer = setInterval(() => {
    rssBytesOf(pid).then((rss) => {
      peakBytes = Math.max(peakBytes, rss);
      samples += 1;
    }, () => {});
  }, RSS_SAMPLE_INTERVAL_MS);
  return { stop: () => { clearInterval(timer); return { peakBytes, samples }; } };
}

/**
 * A consumer that asks and never reads: its socket is paused, and every SLOW_REQUEST_INTERVAL_MS
 * it sends one more request (a 1 MiB Fetch, or a Credit grant of creditBytesMax) without looking
 * at any answer. Without backpressure each request would queue its answer in the broker.
 */
class NeverReadingConsumer {
  requestsSent = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(readonly client: WireClient, nextFrame: (correlationId: number) => Uint8Array) {
    client.socket.pause();
    this.timer = setInterval(() => {
      if (this.requestsSent >= SLOW_REQUESTS_MAX) return;
      this.requestsSent += 1;
      client.socket.send(nextFrame(1_000_000 + this.requestsSent), { binary: true });
    }, SLOW_REQUEST_INTERVAL_MS);
  }

  /** Fetches 1 MiB from offset 0, again and again. */
  static async fetcher(): Promise<NeverReadingConsumer> {
    const client = await WireClient.ready(port);
    return new NeverReadingConsumer(client, (correlationId) => requestFrame(ApiKey.Fetch, correlationId, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: MIB, partitions: [{ topic: SLOW_TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: MIB }],
    }));
  }

  /** Subscribes from offset 0 with full credit, then keeps granting creditBytesMax more. */
  static async subscriber(): Promise<NeverReadingConsumer> {
    const client = await WireClient.ready(port);
    const subscribed = await client.request(ApiKey.Subscribe, { topic: SLOW_TOPIC, partition: 0, offset: 0, creditBytes: CREDIT_BYTES_MAX });
    if (subscribed.headerOnly || subscribed.errorCode !== 0) throw new Error(`subscribe failed: ${subscribed.errorCode}`);
    const subscriptionId = subscribed.subscriptionId;
    return new NeverReadingConsumer(client, (correlationId) => requestFrame(ApiKey.Credit, correlationId, { subscriptionId, creditBytes: CREDIT_BYTES_MAX }));
  }

  stop(): void {
    clearInterval(this.timer);
    this.client.socket.terminate();
  }
}

/** Produces `totalBytes` in copies of `batch`, PRODUCE_WINDOW requests at a time, acks 1, at PRODUCE_BYTES_PER_S. */
async function produceVolume(client: WireClient, batch: Uint8Array, totalBytes: number): Promise<{ requests: number; acked: number; failures: string[]; ackGapMsMax: number; elapsedMs: number }> {
  const requests = Math.ceil(totalBytes / batch.length);
  const startedMs = Date.now();
  let started = 0;
  let acked = 0;
  let lastAckMs = startedMs;
  let ackGapMsMax = 0;
  const failures: string[] = [];
  const lane = async (): Promise<void> => {
    while (started < requests && failures.length === 0) {
      const dueMs = startedMs + (started * batch.length * 1000) / PRODUCE_BYTES_PER_S;
      started += 1;
      if (dueMs > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
      const response = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: PRODUCE_ACK_TIMEOUT_MS, topics: [{ name: SLOW_TOPIC, partitions: [{ partition: 0, records: batch }] }] }, PRODUCE_ACK_TIMEOUT_MS);
      const code = response.headerOnly ? response.errorCode : response.topics[0]!.partitions[0]!.errorCode;
      if (code !== 0) failures.push(`produce answered ${code}`);
      else acked += 1;
      const nowMs = Date.now();
      ackGapMsMax = Math.max(ackGapMsMax, nowMs - lastAckMs);
      lastAckMs = nowMs;
    }
  };
  await Promise.all(Array.from({ length: PRODUCE_WINDOW }, lane));
  return { requests, acked, failures, ackGapMsMax, elapsedMs: Date.now() - startedMs };
}

/** Broker log lines of connections it closed (debug level), from line `from` on. */
function closedConnectionLines(from: number): string[] {
  return broker.lines.slice(from).filter((line) => line.includes('"msg":"closing connection"'));
}

describe('a consumer that stops reading', () => {
  it(`holds the broker's RSS within initial + 3 x sendQueueBytesMax + 100 MB while a producer writes ${PRODUCE_BYTES_TOTAL / MB} MB, and after it vanishes`, async () => {
    const initialRssBytes = await rssBytesOf(broker.pid);
    const boundRssBytes = initialRssBytes + 3 * SEND_QUEUE_BYTES_MAX + RSS_SLACK_BYTES;
    const logFrom = broker.lines.length;
    const sampler = sampleRss(broker.pid);
    const fetcher = await NeverReadingConsumer.fetcher();
    const subscriber = await NeverReadingConsumer.subscriber();
    const producer = await WireClient.ready(port);
    let result;
    try {
      result = await produceVolume(producer, bigBatch(), PRODUCE_BYTES_TOTAL);
    } finally {
      // Gone with their requests unread: the broker must not take them up now and answer nobody.
      fetcher.stop();
      subscriber.stop();
    }
    const duringRssBytes = await rssBytesOf(broker.pid);
    await new Promise((resolve) => setTimeout(resolve, AFTER_VANISH_WATCH_MS));
    const { peakBytes, samples } = sampler.stop();
    producer.close();
    console.log(JSON.stringify({
      initialRssMB: Math.round(initialRssBytes / MB), rssAtEndOfProduceMB: Math.round(duringRssBytes / MB), peakRssMB: Math.round(peakBytes / MB),
      boundRssMB: Math.round(boundRssBytes / MB), rssSamples: samples, producedMB: Math.round((result.acked * bigBatch().length) / MB),
      produceRequests: result.requests, acked: result.acked, ackGapMsMax: result.ackGapMsMax, elapsedMs: result.elapsedMs,
      fetchesSentUnread: fetcher.requestsSent, creditGrantsSentUnread: subscriber.requestsSent,
    }));
    expect(result.failures).toEqual([]);
    expect(result.acked).toBe(result.requests);
    expect(result.ackGapMsMax).toBeLessThan(10_000);
    expect(samples).toBeGreaterThan(50);
    expect(peakBytes).toBeLessThan(boundRssBytes);
    // The slow consumers asked for far more than the bound (each fetch up to 1 MiB, each grant 4 MiB)...
    expect(fetcher.requestsSent * MIB + subscriber.requestsSent * CREDIT_BYTES_MAX).toBeGreaterThan(10 * (boundRssBytes - initialRssBytes));
    // ... and were held back, not disconnected, and their unread requests were dropped with them:
    // the broker closed no connection (a 1008 would mean it read on past maxInFlight).
    expect(closedConnectionLines(logFrom)).toEqual([]);
    expect(isAlive(broker.pid)).toBe(true);
  }, 180_000);
});

describe('a consumer that pipelines fetches, then stops reading', () => {
  // Pausing the socket stops new requests only; the ones already read wait for the connection's
  // send budget before they read the log. Without it, 256 x 8 MiB fetches took a broker from
  // 92 MB to 2.96 GB RSS.
  it('holds RSS within initial + 3 x sendQueueBytesMax + 100 MB when maxInFlight 1 MiB fetches arrive at once', async () => {
    const inFlightMax = 256;
    const { dir, cleanup: cleanupPipelined } = await makeTempDir('sluice-pipelined-');
    const pipelined = CliProcess.start([
      'broker', '--port', '0', '--data-dir', dir, '--offsets-topic-partition-count', '1', '--send-queue-bytes-max', String(SEND_QUEUE_BYTES_MAX),
      '--max-frame-bytes', String(MAX_FRAME_BYTES), '--max-in-flight-requests-per-connection', String(inFlightMax),
    ]);
    try {
      const pipelinedPort = (await pipelined.waitForLog('broker started')).port as number;
      const producer = await WireClient.ready(pipelinedPort);
      await producer.request(ApiKey.CreateTopics, { topics: [{ name: SLOW_TOPIC, partitionCount: 1, replicationFactor: 1 }] });
      for (let i = 0; i < 8; i++) {
        await producer.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: SLOW_TOPIC, partitions: [{ partition: 0, records: bigBatch() }] }] });
      }
      const initialRssBytes = await rssBytesOf(pipelined.pid);
      const sampler = sampleRss(pipelined.pid);
      const consumer = await WireClient.ready(pipelinedPort);
      consumer.socket.pause();
      for (let i = 0; i < inFlightMax; i++) {
        consumer.socket.send(requestFrame(ApiKey.Fetch, 10 + i, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: MIB, partitions: [{ topic: SLOW_TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: MIB }],
        }), { binary: true });
      }
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const { peakBytes } = sampler.stop();
      consumer.socket.terminate();
      producer.close();
      console.log(JSON.stringify({ pipelinedFetches: inFlightMax, initialRssMB: Math.round(initialRssBytes / MB), peakRssMB: Math.round(peakBytes / MB) }));
      expect(peakBytes).toBeLessThan(initialRssBytes + 3 * SEND_QUEUE_BYTES_MAX + RSS_SLACK_BYTES);
    } finally {
      await pipelined.stop();
      await cleanupPipelined();
    }
  }, 60_000);
});

type Vanisher = (random: () => number) => Promise<void>;

/** Upgrades, completes the Sluice handshake, and returns the raw socket. */
async function rawReady(): Promise<import('node:net').Socket> {
  const { status, socket } = await upgrade(port);
  if (status !== 101) {
    socket.destroy();
    throw new Error(`upgrade answered ${status}`);
  }
  socket.on('error', () => {});
  await writeAll(socket, encodeClientFrame(requestFrame(ApiKey.Handshake, 0, { protocolVersion: PROTOCOL_VERSION, clientId: 'vanisher' })));
  return socket;
}

function produceFrame(random: () => number, correlationId: number): Uint8Array {
  const value = new Uint8Array(100 + Math.floor(random() * 60_000)).fill(0x62);
  const records = encodeRecordBatch({ records: [{ key: null, value, headers: [], timestamp: Date.now() }] });
  return requestFrame(ApiKey.Produce, correlationId, { acks: 1, timeoutMs: 10_000, topics: [{ name: VANISH_TOPIC, partitions: [{ partition: Math.floor(random() * 2), records }] }] });
}

/** Ways to disappear mid-request; each leaves the broker a half-read frame or an unanswerable request. */
const VANISHERS: ReadonlyArray<readonly [string, Vanisher]> = [
  ['half a frame, then RST', async (random) => {
    const socket = await rawReady();
    const frame = encodeClientFrame(produceFrame(random, 1));
    await writeAll(socket, frame.subarray(0, 1 + Math.floor(random() * (frame.length - 1))));
    socket.destroy();
  }],
  ['half a frame, then FIN', async (random) => {
    const socket = await rawReady();
    const frame = encodeClientFrame(produceFrame(random, 1));
    await writeAll(socket, frame.subarray(0, 1 + Math.floor(random() * (frame.length - 1))));
    socket.end();
  }],
  ['one byte of a frame header', async () => {
    const socket = await rawReady();
    await writeAll(socket, Buffer.from([0x82]));
    socket.destroy();
  }],
  ['the first fragment of a fragmented message', async (random) => {
    const socket = await rawReady();
    await writeAll(socket, encodeClientFrame(produceFrame(random, 1), Opcode.binary, false));
    socket.destroy();
  }],
  ['half an HTTP upgrade request', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const request = upgradeRequest(port);
    await writeAll(socket, Buffer.from(request.slice(0, request.length >> 1)));
    socket.destroy();
  }],
  ['an upgrade request, gone before the answer', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.write(upgradeRequest(port));
    await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
  }],
  ['a produce, then gone before its ack', async (random) => {
    const client = await WireClient.ready(port);
    client.socket.send(produceFrame(random, 77), { binary: true });
    client.socket.terminate();
  }],
  ['a long-poll fetch, then gone', async () => {
    const client = await WireClient.ready(port);
    client.socket.send(requestFrame(ApiKey.Fetch, 78, { replicaId: -1, maxWaitMs: 2_000, minBytes: 1 << 30, maxBytes: MIB, partitions: [{ topic: VANISH_TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: MIB }] }), { binary: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.socket.terminate();
  }],
  ['a subscription with credit, then gone', async () => {
    const client = await WireClient.ready(port);
    const subscribed = await client.request(ApiKey.Subscribe, { topic: VANISH_TOPIC, partition: 1, offset: 0, creditBytes: CREDIT_BYTES_MAX });
    if (subscribed.headerOnly) throw new Error(`subscribe failed: ${subscribed.errorCode}`);
    client.socket.send(requestFrame(ApiKey.Credit, 79, { subscriptionId: subscribed.subscriptionId, creditBytes: MIB }), { binary: true });
    client.socket.terminate();
  }],
];

describe('clients that vanish mid-request', () => {
  it(`leave no connection, upgrade slot or memory behind over ${VANISH_ROUNDS} disappearances, and the data stays verifiable`, async () => {
    // The gauge is optional: without it, the maxConnections check below still finds any leak.
    const baseline = await pollUntil(() => connectionGauge(port), (count) => count === null || count === 0);
    expect(baseline === null || baseline === 0).toBe(true);
    const initialRssBytes = await rssBytesOf(broker.pid);
    const random = mulberry32(0x7a115);
    const counts = new Map<string, number>();
    const failures: string[] = [];
    for (let round = 0; round < VANISH_ROUNDS; round += VANISH_CONCURRENCY) {
      await Promise.all(Array.from({ length: VANISH_CONCURRENCY }, async (_, i) => {
        const [name, vanish] = VANISHERS[(round + i) % VANISHERS.length]!;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        try {
          await vanish(random);
        } catch (error) {
          failures.push(`${name}: ${(error as Error).message}`);
        }
      }));
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(isAlive(broker.pid)).toBe(true);

    // Every connection is released: the gauge returns to its baseline ...
    if (baseline !== null) expect(await pollUntil(() => connectionGauge(port), (count) => count === baseline, 15_000)).toBe(baseline);
    // ... and so is every upgrade slot: maxConnections clients connect at once, and one more is refused.
    const clients = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => WireClient.ready(port)));
    const refused = await upgrade(port);
    refused.socket.destroy();
    expect(refused.status).toBe(503);
    const metadata = await clients[0]!.request(ApiKey.Metadata, { allTopics: false, topics: [VANISH_TOPIC] });
    if (metadata.headerOnly) throw new Error(`metadata failed: ${metadata.errorCode}`);
    expect(metadata.topics[0]!.errorCode).toBe(0);
    await pushesStillFlow(clients[1]!);
    for (const client of clients) client.close();

    const rssBytes = await rssBytesOf(broker.pid);
    console.log(JSON.stringify({ vanishings: Object.fromEntries(counts), initialRssMB: Math.round(initialRssBytes / MB), rssAfterMB: Math.round(rssBytes / MB) }));
    expect(rssBytes).toBeLessThan(initialRssBytes + RSS_SLACK_BYTES);
    for (const partition of [0, 1]) {
      const dump = await runCli(['dump-log', join(dataDir, `${VANISH_TOPIC}-${partition}`), '--verify']);
      expect(dump.code, dump.stdout.split('\n').filter((line) => line.startsWith('PROBLEM')).slice(0, 5).join('\n') + dump.stderr).toBe(0);
    }
    const slowDump = await runCli(['dump-log', join(dataDir, `${SLOW_TOPIC}-0`), '--verify'], 60_000);
    expect(slowDump.code, slowDump.stderr).toBe(0);
  }, 120_000);
});

// A fresh subscription on a surviving connection still gets its pushes, in order.
async function pushesStillFlow(client: WireClient): Promise<void> {
  const produced = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: VANISH_TOPIC, partitions: [{ partition: 0, records: encodeRecordBatch({ records: [{ key: null, value: new Uint8Array([1]), headers: [], timestamp: Date.now() }] }) }] }] });
  if (produced.headerOnly) throw new Error(`produce failed: ${produced.errorCode}`);
  const baseOffset = produced.topics[0]!.partitions[0]!.baseOffset;
  expect(produced.topics[0]!.partitions[0]!.errorCode).toBe(0);
  const subscribed = await client.request(ApiKey.Subscribe, { topic: VANISH_TOPIC, partition: 0, offset: baseOffset, creditBytes: MIB });
  expect(subscribed.errorCode).toBe(0);
  const pushes = await pollUntil(async () => client.pushes.length, (count) => count > 0, 5_000);
  expect(pushes).toBeGreaterThan(0);
  expect(client.pushes[0]!.push).toMatchObject({ errorCode: 0, nextOffset: baseOffset + 1 });
}
