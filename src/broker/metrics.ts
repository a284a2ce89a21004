import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION, LOG_OVERHEAD_BYTES, RECORD_COUNT_POSITION } from '../record/index.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { NativeAddonReport } from './native-addons.js';
import { parsePartitionDirName } from '../storage/segment-names.js';

/** Which face of the broker a request came through. */
export type Transport = 'ws' | 'http';

/** What the scrape-time gauges read; set once the broker is serving. */
export interface MetricsSources {
  /** Open WebSocket connections. */
  readonly connectionCount: () => number;
  /** Every open partition log, keyed `<topic>-<partition>` (LogManager.partitions). */
  readonly logs: () => ReadonlyMap<string, PartitionLog>;
  /** Partitions this broker leads whose ISR is smaller than their replica set. */
  readonly underReplicatedPartitions?: () => number;
  /** Leader changes this broker made as controller, over all its terms (failover and rebalancing). */
  readonly leaderElections?: () => number;
  /** Bytes held by every partition's tail cache together. */
  readonly tailCacheBytes?: () => number;
}

/** How the metrics are built. */
export interface BrokerMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, event loop lag, GC) in this registry. */
  readonly processMetrics: boolean;
  /** Which implementation of each native addon this process runs (reportNativeAddons()). */
  readonly nativeAddons: NativeAddonReport;
}

/** The `addon` label of `sluice_native_addon_info` for each field of the report. */
const NATIVE_ADDON_LABELS: Readonly<Record<keyof NativeAddonReport, string>> = {
  crc32c: 'crc32c',
  websocketMasking: 'websocket_masking',
};

// fsync latency, in seconds: from a fast NVMe flush to a disk in trouble.
const FSYNC_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Batches made durable by one fsync: how well group commit is sharing them.
const APPENDS_PER_FSYNC_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * The broker's Prometheus metrics, in a registry of its own (never prom-client's global one, so
 * two brokers in one process do not share counters). Counters are bumped by the produce and read
 * paths; gauges of offsets and connections are read from the broker when scraped. Everything
 * here is derived: it is lost at restart and rebuilt from zero.
 */
export class BrokerMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | null = null;
  private readonly produceRequests: Counter<'transport'>;
  private readonly produceRecords: Counter<'transport'>;
  private readonly produceBytes: Counter<'transport'>;
  private readonly fetchBytes: Counter<'transport'>;
  private readonly httpRequests: Counter<'route' | 'status'>;
  private readonly fsyncSeconds: Histogram;
  private readonly appendsPerFsync: Histogram;
  private readonly fsyncBytes: Counter;
  private readonly isrChanges: Counter<'kind'>;

  constructor(options: BrokerMetricsOptions) {
    const registers = [this.registry];
    this.produceRequests = new Counter({ name: 'sluice_produce_requests_total', help: 'Produce requests received (WebSocket Produce, HTTP POST records)', labelNames: ['transport'], registers });
    this.produceRecords = new Counter({ name: 'sluice_produce_records_total', help: 'Records appended durably', labelNames: ['transport'], registers });
    this.produceBytes = new Counter({ name: 'sluice_produce_bytes_total', help: 'RecordBatch bytes appended durably', labelNames: ['transport'], registers });
    this.fetchBytes = new Counter({ name: 'sluice_fetch_bytes_total', help: 'RecordBatch bytes returned by reads (WebSocket Fetch, HTTP GET records)', labelNames: ['transport'], registers });
    this.httpRequests = new Counter({ name: 'sluice_http_requests_total', help: 'HTTP requests answered, by route pattern and status code', labelNames: ['route', 'status'], registers });
    this.fsyncSeconds = new Histogram({ name: 'sluice_fsync_duration_seconds', help: 'Duration of each group-commit fdatasync of a partition log', buckets: FSYNC_SECONDS_BUCKETS, registers });
    this.appendsPerFsync = new Histogram({ name: 'sluice_appends_per_fsync', help: 'Record batches made durable by one group-commit fsync', buckets: APPENDS_PER_FSYNC_BUCKETS, registers });
    this.fsyncBytes = new Counter({ name: 'sluice_fsync_bytes_total', help: 'Bytes made durable by group-commit fsyncs', registers });
    const metrics = this;
    this.isrChanges = new Counter({ name: 'sluice_isr_changes_total', help: 'ISR changes this broker wrote as leader: shrink (a follower lagged past replicaLagTimeMaxMs) or expand (it caught up)', labelNames: ['kind'], registers });
    new Counter({
      name: 'sluice_leader_elections_total', help: 'Leader changes this broker wrote as controller (failover or preferred-leader rebalancing)', registers,
      collect(this: Counter) { this.reset(); this.inc(metrics.sources?.leaderElections?.() ?? 0); },
    });
    new Gauge({
      name: 'sluice_under_replicated_partitions', help: 'Partitions this broker leads whose ISR is smaller than their replica set', registers,
      collect(this: Gauge) { this.set(metrics.sources?.underReplicatedPartitions?.() ?? 0); },
    });
    new Gauge({
      name: 'sluice_tail_cache_bytes', help: 'Memory held by the tail caches of every partition log together (at most tailCacheTotalBytesMax)', registers,
      collect(this: Gauge) { this.set(metrics.sources?.tailCacheBytes?.() ?? 0); },
    });
    new Gauge({
      name: 'sluice_websocket_connections', help: 'Open WebSocket client connections', registers,
      collect(this: Gauge) { this.set(metrics.sources?.connectionCount() ?? 0); },
    });
    new Gauge({
      name: 'sluice_log_end_offset', help: 'One past the last offset written to each partition log', labelNames: ['topic', 'partition'], registers,
      collect(this: Gauge<'topic' | 'partition'>) { metrics.collectOffsets(this, (log) => log.logEndOffset); },
    });
    new Gauge({
      name: 'sluice_high_watermark', help: 'High watermark (offsets readable by consumers) of each partition log', labelNames: ['topic', 'partition'], registers,
      collect(this: Gauge<'topic' | 'partition'>) { metrics.collectOffsets(this, (log) => log.highWatermark); },
    });
    new Gauge({
      name: 'sluice_log_start_offset', help: 'First offset still held by each partition log', labelNames: ['topic', 'partition'], registers,
      collect(this: Gauge<'topic' | 'partition'>) { metrics.collectOffsets(this, (log) => log.logStartOffset); },
    });
    // Info-metric style: one series per addon, labelled with the implementation that runs, value 1.
    // Fixed at start: an addon is loaded (or not) once per process.
    const nativeAddonInfo = new Gauge({
      name: 'sluice_native_addon_info', help: 'Implementation (native or javascript) of each native addon this process runs; value 1', labelNames: ['addon', 'implementation'], registers,
    });
    for (const [field, addon] of Object.entries(NATIVE_ADDON_LABELS) as Array<[keyof NativeAddonReport, string]>) {
      nativeAddonInfo.set({ addon, implementation: options.nativeAddons[field] }, 1);
    }
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Connects the scrape-time gauges to the running broker. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** One produce request arrived. */
  produceRequest(transport: Transport): void {
    this.produceRequests.inc({ transport });
  }

  /** RecordBatch v2 bytes (one or more batches back to back) were appended durably. */
  produced(transport: Transport, batches: Uint8Array): void {
    this.produceRecords.inc({ transport }, recordCountOf(batches));
    this.produceBytes.inc({ transport }, batches.length);
  }

  /** A read returned `bytes` of batches. */
  fetched(transport: Transport, bytes: number): void {
    if (bytes > 0) this.fetchBytes.inc({ transport }, bytes);
  }

  /** This broker, as leader, shrank or expanded an ISR. */
  isrChanged(kind: 'shrink' | 'expand'): void {
    this.isrChanges.inc({ kind });
  }

  /** An HTTP request was answered; `route` is its pattern (a bounded set), not its path. */
  httpRequest(route: string, status: number): void {
    this.httpRequests.inc({ route, status: String(status) });
  }

  /** A group commit's fsync finished: its duration and what it made durable. */
  readonly observeSync = (durationMs: number, items: number, bytes: number): void => {
    this.fsyncSeconds.observe(durationMs / 1000);
    this.appendsPerFsync.observe(items);
    this.fsyncBytes.inc(bytes);
  };

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private collectOffsets(gauge: Gauge<'topic' | 'partition'>, offsetOf: (log: PartitionLog) => number): void {
    // Rebuilt at every scrape, so a deleted partition's series disappears.
    gauge.reset();
    for (const [name, log] of this.sources?.logs() ?? []) {
      const parsed = parsePartitionDirName(name);
      if (parsed !== null) gauge.set({ topic: parsed.topic, partition: String(parsed.partition) }, offsetOf(log));
    }
  }
}

/**
 * The records in back-to-back batches, from each batch's header (`recordCount`). Stops at the
 * first incomplete header; each step advances at least one header, so the loop is bounded by
 * the byte length.
 */
export function recordCountOf(batches: Uint8Array): number {
  const view = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  let records = 0;
  for (let position = 0; batches.length - position >= BATCH_HEADER_BYTES;) {
    const sizeBytes = view.getInt32(position + BATCH_LENGTH_POSITION) + LOG_OVERHEAD_BYTES;
    if (sizeBytes < BATCH_HEADER_BYTES) break;
    records += view.getInt32(position + RECORD_COUNT_POSITION);
    position += sizeBytes;
  }
  return records;
}
