import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';
import { call, sample, scrape } from './http-helpers.js';

const encoder = new TextEncoder();

const METRIC_NAMES = [
  'sluice_produce_requests_total', 'sluice_produce_records_total', 'sluice_produce_bytes_total', 'sluice_fetch_bytes_total',
  'sluice_http_requests_total', 'sluice_fsync_duration_seconds', 'sluice_appends_per_fsync', 'sluice_fsync_bytes_total',
  'sluice_websocket_connections', 'sluice_tail_cache_bytes', 'sluice_log_end_offset', 'sluice_high_watermark', 'sluice_log_start_offset', 'sluice_native_addon_info',
  'process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds',
];

let broker: CliProcess;
let port: number;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  let dataDir: string;
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-http-metrics-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
  port = (await broker.waitForLog('broker started')).port as number;
  expect((await call(port, 'POST', '/v1/topics', { name: 'watched', partitions: 2 })).status).toBe(201);
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** Polls (bounded) until `check` holds for a scrape; returns that scrape. */
async function scrapeUntil(check: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = await scrape(port);
  while (!check(text) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = await scrape(port);
  }
  return text;
}

describe('/metrics of a broker process', () => {
  it('serves the Prometheus text of every documented metric', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of METRIC_NAMES) expect(text, name).toContain(`# TYPE ${name} `);
  });

  it('says at start, in the log and in a gauge, that the native CRC-32C and WebSocket masking run', async () => {
    // `npm ci` builds both addons here and in CI (allowScripts in package.json).
    const logged = await broker.waitForLog('native addons');
    expect(logged.level).toBe(30);
    expect(logged).toMatchObject({ crc32c: 'native', websocketMasking: 'native' });
    const text = await scrape(port);
    expect(sample(text, 'sluice_native_addon_info{addon="crc32c",implementation="native"}')).toBe(1);
    expect(sample(text, 'sluice_native_addon_info{addon="websocket_masking",implementation="native"}')).toBe(1);
    expect(text).not.toContain('implementation="javascript"');
  });

  it('moves the produce, fetch, fsync and offset metrics after an HTTP produce and read', async () => {
    const before = await scrape(port);
    const records = [{ value: 'a' }, { value: 'b' }, { value: 'c' }];
    const produced = await call(port, 'POST', '/v1/topics/watched/records', { records });
    expect(produced.status).toBe(200);
    const partition: number = produced.json.offsets[0].partition;
    expect((await call(port, 'GET', `/v1/topics/watched/partitions/${partition}/records`)).json.records).toHaveLength(3);
    const after = await scrapeUntil((text) => sample(text, 'sluice_fsync_duration_seconds_count') > sample(before, 'sluice_fsync_duration_seconds_count'));

    const delta = (series: string): number => sample(after, series) - sample(before, series);
    expect(delta('sluice_produce_requests_total{transport="http"}')).toBe(1);
    expect(delta('sluice_produce_records_total{transport="http"}')).toBe(3);
    expect(delta('sluice_produce_bytes_total{transport="http"}')).toBeGreaterThan(61);
    expect(delta('sluice_fetch_bytes_total{transport="http"}')).toBe(delta('sluice_produce_bytes_total{transport="http"}'));
    expect(delta('sluice_fsync_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta('sluice_appends_per_fsync_count')).toBeGreaterThanOrEqual(1);
    expect(delta('sluice_fsync_bytes_total')).toBeGreaterThanOrEqual(delta('sluice_produce_bytes_total{transport="http"}'));
    expect(delta('sluice_http_requests_total{route="/v1/topics/:topic/records",status="200"}')).toBe(1);
    expect(sample(after, `sluice_log_end_offset{topic="watched",partition="${partition}"}`)).toBe(3);
    expect(sample(after, `sluice_high_watermark{topic="watched",partition="${partition}"}`)).toBe(3);
    // The batch just written is in its partition's tail cache: the broker-wide total holds at least it.
    expect(sample(after, 'sluice_tail_cache_bytes')).toBeGreaterThanOrEqual(delta('sluice_produce_bytes_total{transport="http"}'));
  });

  it('counts WebSocket connections and WebSocket produce and fetch', async () => {
    const before = await scrape(port);
    const client = await WireClient.ready(port);
    try {
      const batch = encodeRecordBatch({ records: [1, 2].map((i) => ({ key: null, value: encoder.encode(`ws${i}`), headers: [], timestamp: 1 })) });
      const produced = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'watched', partitions: [{ partition: 1, records: batch }] }] });
      if (produced.headerOnly) throw new Error('header-only produce response');
      expect(produced.topics[0]!.partitions[0]!.errorCode).toBe(0);
      await client.request(ApiKey.Fetch, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024 * 1024,
        partitions: [{ topic: 'watched', partition: 1, fetchOffset: 0, partitionMaxBytes: 1024 * 1024 }],
      });
      const during = await scrape(port);
      expect(sample(during, 'sluice_websocket_connections')).toBe(1);
      expect(sample(during, 'sluice_produce_requests_total{transport="ws"}') - sample(before, 'sluice_produce_requests_total{transport="ws"}')).toBe(1);
      expect(sample(during, 'sluice_produce_records_total{transport="ws"}') - sample(before, 'sluice_produce_records_total{transport="ws"}')).toBe(2);
      expect(sample(during, 'sluice_fetch_bytes_total{transport="ws"}') - sample(before, 'sluice_fetch_bytes_total{transport="ws"}')).toBeGreaterThanOrEqual(batch.length);
    } finally {
      client.socket.close();
    }
    const after = await scrapeUntil((text) => sample(text, 'sluice_websocket_connections') === 0);
    expect(sample(after, 'sluice_websocket_connections')).toBe(0);
  });
});
