import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Admin, Consumer, Producer, type ConnectionOptions } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';
import { describeMachine } from '../common/machine-info.js';
import { produceAsFastAsPossible, type ProduceFigures } from '../common/produce-run.js';
import { formatMegabytesPerSecond, formatMs, formatNumber, formatTable } from '../common/table.js';
import { BenchBroker } from './broker-process.js';

/**
 * The broker benchmark: a real broker process on loopback, driven over WebSocket by the client
 * library and over HTTP by autocannon. Sizes are those of issue 5: 1,000,000 records of 100
 * bytes from one producer with acks=1 (each acknowledged only after fsync), read back by one
 * consumer; end-to-end latency at a fixed rate; HTTP produce under load.
 */

const quick = process.argv.includes('--quick');
const RECORD_COUNT = quick ? 20_000 : 1_000_000;
const VALUE_BYTES = 100;
const PARTITIONS = 3;
const IN_FLIGHT_SENDS_MAX = 20_000;
const LATENCY_RATE_PER_S = quick ? 1_000 : 5_000;
const LATENCY_SECONDS = quick ? 1 : 5;
const HTTP_SECONDS = quick ? 1 : 5;
const HTTP_RECORDS_PER_REQUEST = 10;
const PHASE_TIMEOUT_MS = 300_000;

interface Figures {
  produce: ProduceFigures;
  consume: { records: number; seconds: number; recordsPerSecond: number; megabytesPerSecond: number };
  endToEnd: { ratePerSecond: number; latencyMs: LatencySummaryMs };
  http: { requestsPerSecond: number; recordsPerSecond: number; latencyMsP50: number; latencyMsP99: number; errors: number; non2xx: number };
  brokerRssBytesMax: number | null;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-broker-'));
  const broker = await BenchBroker.start(dataDir);
  const options: ConnectionOptions = { url: `ws://127.0.0.1:${broker.port}`, webSocketFactory: nodeWebSocket, clientId: 'bench' };
  let rssMax = 0;
  const rssTimer = setInterval(() => { void broker.rssBytes().then((rss) => { if (rss !== null) rssMax = Math.max(rssMax, rss); }); }, 250);
  try {
    const admin = new Admin(options);
    await admin.connect();
    for (const topic of ['bench', 'latency', 'http']) await admin.createTopic(topic, PARTITIONS);
    admin.close();
    const produce = await produceBench(options);
    const consume = await consumeBench(options);
    const endToEnd = await latencyBench(options);
    const http = await httpBench(broker.port);
    const figures: Figures = { produce, consume, endToEnd, http, brokerRssBytesMax: rssMax === 0 ? null : rssMax };
    await report(figures, dataDir);
  } finally {
    clearInterval(rssTimer);
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function produceBench(options: ConnectionOptions): Promise<Figures['produce']> {
  const producer = new Producer({ ...options, acks: 1 });
  await producer.connect();
  const figures = await produceAsFastAsPossible({
    producer, topic: 'bench', recordCount: RECORD_COUNT, valueBytes: VALUE_BYTES, inFlightSendsMax: IN_FLIGHT_SENDS_MAX,
    progress: (sent) => progress(`produce: ${formatNumber(sent, 0)} / ${formatNumber(RECORD_COUNT, 0)} records`),
  });
  await producer.close();
  return figures;
}

async function consumeBench(options: ConnectionOptions): Promise<Figures['consume']> {
  const consumer = new Consumer({ ...options, from: 'earliest' });
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'bench', partition })));
  const started = performance.now();
  const deadline = started + PHASE_TIMEOUT_MS;
  let count = 0;
  let lastProgressMs = started;
  for await (const record of consumer.records()) {
    void record;
    count += 1;
    if (count >= RECORD_COUNT || performance.now() > deadline) break;
    if (performance.now() - lastProgressMs > 1000) {
      lastProgressMs = performance.now();
      progress(`consume: ${formatNumber(count, 0)} / ${formatNumber(RECORD_COUNT, 0)} records`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  if (count < RECORD_COUNT) throw new Error(`consumed only ${count} of ${RECORD_COUNT} records in time`);
  return { records: count, seconds, recordsPerSecond: count / seconds, megabytesPerSecond: (count * VALUE_BYTES) / seconds / 1e6 };
}

// Sends on a fixed schedule and measures from each record's intended send time, so a stall
// shows up in the latency of every record it delayed (no coordinated omission).
async function latencyBench(options: ConnectionOptions): Promise<Figures['endToEnd']> {
  const consumer = new Consumer({ ...options, from: 'latest' });
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'latency', partition })));
  const producer = new Producer({ ...options, acks: 1, lingerMs: 0 });
  await producer.connect();
  const total = LATENCY_RATE_PER_S * LATENCY_SECONDS;
  const recorder = new LatencyRecorder();
  const received = (async () => {
    let count = 0;
    const stop = AbortSignal.timeout(LATENCY_SECONDS * 1000 + 30_000);
    for await (const record of consumer.records({ signal: stop })) {
      const intendedMs = Number(new TextDecoder().decode(record.value!));
      recorder.recordMs(performance.now() - intendedMs);
      count += 1;
      if (count >= total) break;
    }
    return count;
  })();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const intendedMs = started + (i * 1000) / LATENCY_RATE_PER_S;
    const waitMs = intendedMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    sends.push(producer.send({ topic: 'latency', value: intendedMs.toFixed(3) }));
  }
  await Promise.all(sends);
  const count = await received;
  await producer.close();
  await consumer.close();
  if (count < total) throw new Error(`latency run received ${count} of ${total} records`);
  return { ratePerSecond: LATENCY_RATE_PER_S, latencyMs: recorder.summary() };
}

async function httpBench(port: number): Promise<Figures['http']> {
  const records = Array.from({ length: HTTP_RECORDS_PER_REQUEST }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(VALUE_BYTES) }));
  progress(`http: autocannon POST /v1/topics/http/records for ${HTTP_SECONDS} s`);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/topics/http/records`, method: 'POST', connections: 16, duration: HTTP_SECONDS,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }),
  });
  return {
    requestsPerSecond: result.requests.average, recordsPerSecond: result.requests.average * HTTP_RECORDS_PER_REQUEST,
    latencyMsP50: result.latency.p50, latencyMsP99: result.latency.p99, errors: result.errors, non2xx: result.non2xx,
  };
}

async function report(figures: Figures, dataDir: string): Promise<void> {
  const lines = [
    `Sluice broker bench — ${new Date().toISOString()}${quick ? ' (quick)' : ''}`,
    `one broker process on 127.0.0.1, ${PARTITIONS} partitions, values ${VALUE_BYTES} B, MB = 10^6 bytes of values`,
    '',
    formatTable([{ header: 'phase', align: 'left' }, { header: 'records', align: 'right' }, { header: 'secs', align: 'right' }, { header: 'records/s', align: 'right' }, { header: 'MB/s', align: 'right' }], [
      ['produce (1 producer, acks=1, fsync)', formatNumber(figures.produce.records, 0), formatNumber(figures.produce.seconds, 2), formatNumber(figures.produce.recordsPerSecond, 0), formatMegabytesPerSecond(figures.produce.megabytesPerSecond * 1e6)],
      ['consume (1 consumer, subscribe)', formatNumber(figures.consume.records, 0), formatNumber(figures.consume.seconds, 2), formatNumber(figures.consume.recordsPerSecond, 0), formatMegabytesPerSecond(figures.consume.megabytesPerSecond * 1e6)],
    ]),
    '',
    `end-to-end latency at ${formatNumber(figures.endToEnd.ratePerSecond, 0)} records/s (produce acks=1 → consumer), ms:`,
    formatTable(['p50', 'p90', 'p99', 'p99.9', 'max'].map((header) => ({ header, align: 'right' as const })), [[
      formatMs(figures.endToEnd.latencyMs.p50), formatMs(figures.endToEnd.latencyMs.p90), formatMs(figures.endToEnd.latencyMs.p99),
      formatMs(figures.endToEnd.latencyMs.p999), formatMs(figures.endToEnd.latencyMs.max),
    ]]),
    '',
    `HTTP produce (autocannon, 16 connections, ${HTTP_RECORDS_PER_REQUEST} records per request): ${formatNumber(figures.http.requestsPerSecond, 0)} requests/s = ${formatNumber(figures.http.recordsPerSecond, 0)} records/s, p50 ${figures.http.latencyMsP50} ms, p99 ${figures.http.latencyMsP99} ms, errors ${figures.http.errors}, non-2xx ${figures.http.non2xx}`,
    `broker RSS max: ${figures.brokerRssBytesMax === null ? 'n/a' : `${formatNumber(figures.brokerRssBytesMax / 1048576, 0)} MiB`}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.argv.includes('--no-results')) return;
  const resultsDir = new URL('../../../bench/results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  const json = JSON.stringify({ machine: await describeMachine(dataDir), quick, figures }, null, 2);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(new URL(`broker-${stamp}.json`, resultsDir), json);
  await writeFile(new URL('broker-latest.json', resultsDir), json);
  process.stdout.write(`wrote bench/results/broker-${stamp}.json and broker-latest.json\n`);
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
