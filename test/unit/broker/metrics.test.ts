import { describe, expect, it } from 'vitest';
import { BrokerMetrics, recordCountOf } from '../../../src/broker/metrics.js';
import { encodeRecordBatch } from '../../../src/record/index.js';
import { GroupCommitter, type GroupCommitSink } from '../../../src/storage/group-commit.js';
import type { NativeAddonReport } from '../../../src/broker/native-addons.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';

const encoder = new TextEncoder();
const NATIVE: NativeAddonReport = { crc32c: 'native', websocketMasking: 'native' };

function batchOf(count: number): Uint8Array {
  return encodeRecordBatch({ records: Array.from({ length: count }, (_, i) => ({ key: null, value: encoder.encode(`v${i}`), headers: [], timestamp: 1 })) });
}

/** The value of one sample line, e.g. `sluice_produce_records_total{transport="ws"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('broker metrics', () => {
  it('counts records from batch headers, stopping at an incomplete header', () => {
    const two = batchOf(2);
    const three = batchOf(3);
    const both = new Uint8Array(two.length + three.length);
    both.set(two);
    both.set(three, two.length);
    expect(recordCountOf(both)).toBe(5);
    expect(recordCountOf(both.subarray(0, two.length + 10))).toBe(2);
    expect(recordCountOf(new Uint8Array(0))).toBe(0);
  });

  it('exports produce, fetch, fsync and HTTP counters by their documented names', async () => {
    const metrics = new BrokerMetrics({ processMetrics: false, nativeAddons: NATIVE });
    metrics.produceRequest('ws');
    metrics.produced('ws', batchOf(4));
    metrics.fetched('http', 123);
    metrics.httpRequest('/healthz', 200);
    metrics.observeSync(2.5, 3, 900);
    const { body, contentType } = await metrics.text();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, 'sluice_produce_requests_total{transport="ws"}')).toBe(1);
    expect(sample(body, 'sluice_produce_records_total{transport="ws"}')).toBe(4);
    expect(sample(body, 'sluice_produce_bytes_total{transport="ws"}')).toBe(batchOf(4).length);
    expect(sample(body, 'sluice_fetch_bytes_total{transport="http"}')).toBe(123);
    expect(sample(body, 'sluice_http_requests_total{route="/healthz",status="200"}')).toBe(1);
    expect(sample(body, 'sluice_fsync_duration_seconds_sum')).toBeCloseTo(0.0025);
    expect(sample(body, 'sluice_fsync_duration_seconds_bucket{le="0.0025"}')).toBe(1);
    expect(sample(body, 'sluice_fsync_duration_seconds_bucket{le="0.001"}')).toBe(0);
    expect(sample(body, 'sluice_appends_per_fsync_bucket{le="4"}')).toBe(1);
    expect(sample(body, 'sluice_appends_per_fsync_bucket{le="2"}')).toBe(0);
    expect(sample(body, 'sluice_fsync_bytes_total')).toBe(900);
    expect(body).not.toContain('process_cpu');
  });

  it('reads connections and per-partition offsets from the broker when scraped', async () => {
    const metrics = new BrokerMetrics({ processMetrics: false, nativeAddons: NATIVE });
    expect(sample((await metrics.text()).body, 'sluice_websocket_connections')).toBe(0);
    const logs = new Map<string, PartitionLog>([
      ['orders-0', { logStartOffset: 2, highWatermark: 7, logEndOffset: 9 } as PartitionLog],
      ['orders-1', { logStartOffset: 0, highWatermark: 0, logEndOffset: 0 } as PartitionLog],
    ]);
    metrics.attach({ connectionCount: () => 3, logs: () => logs });
    let body = (await metrics.text()).body;
    expect(sample(body, 'sluice_websocket_connections')).toBe(3);
    expect(sample(body, 'sluice_log_end_offset{topic="orders",partition="0"}')).toBe(9);
    expect(sample(body, 'sluice_high_watermark{topic="orders",partition="0"}')).toBe(7);
    expect(sample(body, 'sluice_log_start_offset{topic="orders",partition="0"}')).toBe(2);
    logs.delete('orders-1');
    body = (await metrics.text()).body;
    expect(sample(body, 'sluice_log_end_offset{topic="orders",partition="1"}')).toBeUndefined();
  });

  it('says which implementation of each native addon runs, one series per addon with value 1', async () => {
    const metrics = new BrokerMetrics({ processMetrics: false, nativeAddons: { crc32c: 'javascript', websocketMasking: 'native' } });
    const { body } = await metrics.text();
    expect(body).toContain('# TYPE sluice_native_addon_info gauge');
    expect(sample(body, 'sluice_native_addon_info{addon="crc32c",implementation="javascript"}')).toBe(1);
    expect(sample(body, 'sluice_native_addon_info{addon="websocket_masking",implementation="native"}')).toBe(1);
    expect(body.split('\n').filter((line) => line.startsWith('sluice_native_addon_info{'))).toHaveLength(2);
  });

  it('keeps two brokers\' metrics apart (no global registry)', async () => {
    const first = new BrokerMetrics({ processMetrics: true, nativeAddons: NATIVE });
    const second = new BrokerMetrics({ processMetrics: true, nativeAddons: NATIVE });
    first.produceRequest('http');
    expect(sample((await first.text()).body, 'sluice_produce_requests_total{transport="http"}')).toBe(1);
    expect(sample((await second.text()).body, 'sluice_produce_requests_total{transport="http"}')).toBeUndefined();
    expect((await second.text()).body).toContain('process_cpu_user_seconds_total');
  });
});

describe('observing group-commit fsyncs', () => {
  it('reports each fsync\'s duration by the injected clock, with the items and bytes it made durable', async () => {
    let clockMs = 100;
    let releaseSync: () => void = () => {};
    const sink: GroupCommitSink<string> = {
      write: async () => {},
      sync: () => new Promise((resolve) => { releaseSync = resolve; }),
    };
    const syncs: Array<[number, number, number]> = [];
    const committer = new GroupCommitter(sink, 1024, () => {}, { nowMs: () => clockMs, onSync: (durationMs, items, bytes) => syncs.push([durationMs, items, bytes]) });
    const done = Promise.all([committer.commit('a', 10), committer.commit('b', 20)]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    clockMs += 7;
    releaseSync();
    await done;
    await Promise.resolve();
    expect(syncs).toEqual([[7, 2, 30]]);
    expect(committer.stats).toEqual({ syncCount: 1, itemsSynced: 2, bytesSynced: 30 });
  });

  it('observes nothing when no observer is given', async () => {
    const committer = new GroupCommitter<string>({ write: async () => {}, sync: async () => {} }, 1024, () => {});
    await committer.commit('a', 1);
    expect(committer.stats.syncCount).toBe(1);
  });
});
