import { ApiKey } from '../../src/protocol/index.js';
import { expectOk, type Connection } from '../../src/client/index.js';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';

/** Which offsets a fetch sample reads, and how much. */
export interface FetchSampleOptions {
  readonly topic: string;
  /** The log end offset; offsets are drawn from [0, logEndOffset × oldFraction). */
  readonly logEndOffset: number;
  readonly oldFraction: number;
  readonly samples: number;
  /** The Fetch's maxBytes and partitionMaxBytes: one producer batch, so one batch comes back. */
  readonly fetchBytesMax: number;
  /** Uniform in [0, 1); seeded by the caller. */
  readonly random: () => number;
  /** Runs before each fetch, outside the timing (dropping the page cache for cold reads). */
  readonly beforeEach?: () => Promise<void>;
}

/** Latency of one Fetch round trip per sample, and the bytes the fetches returned. */
export interface FetchSampleFigures {
  readonly latencyMs: LatencySummaryMs;
  readonly bytesPerFetchMean: number;
}

/**
 * Times `samples` Fetch round trips, each of a random old offset, one at a time on one
 * connection (the client's lowest level: Connection.request). maxWaitMs 0, so a fetch never
 * waits for new data. Every fetch must succeed and return at least one batch.
 */
export async function sampleFetches(connection: Connection, options: FetchSampleOptions): Promise<FetchSampleFigures> {
  const recorder = new LatencyRecorder();
  const oldOffsetsEnd = Math.max(1, Math.floor(options.logEndOffset * options.oldFraction));
  let bytesTotal = 0;
  for (let sample = 0; sample < options.samples; sample++) {
    const fetchOffset = Math.floor(options.random() * oldOffsetsEnd);
    if (options.beforeEach !== undefined) await options.beforeEach();
    const started = performance.now();
    const response = expectOk(await connection.request(ApiKey.Fetch, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: options.fetchBytesMax,
      partitions: [{ topic: options.topic, partition: 0, fetchOffset, partitionMaxBytes: options.fetchBytesMax }],
    }));
    recorder.recordMs(performance.now() - started);
    const result = response.partitions[0];
    if (result === undefined || result.errorCode !== 0 || result.records.length === 0) {
      throw new Error(`fetch of ${options.topic} at offset ${fetchOffset} returned ${result === undefined ? 'no partition' : `error ${result.errorCode}, ${result.records.length} bytes`}`);
    }
    bytesTotal += result.records.length;
  }
  return { latencyMs: recorder.summary(), bytesPerFetchMean: bytesTotal / options.samples };
}
