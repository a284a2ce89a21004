import { SluiceClientError } from './errors.js';

/**
 * Every numeric setting of the client in one place: its unit, default, bounds and why. The
 * client cannot import src/config (it runs in browsers and the broker's table is the broker's),
 * so this is the client's own table. Options are checked once, when a Producer, Consumer, Admin
 * or Connection is made, and then frozen: a bad value fails at once with its name.
 */

export interface NumericSetting {
  readonly unit: 'ms' | 'bytes' | 'count';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

const KIB = 1024;
const MIB = 1024 * KIB;

export const CONNECTION_SETTINGS = {
  connectTimeoutMs: { unit: 'ms', default: 10_000, min: 1, max: 600_000, doc: 'Longest wait for the WebSocket to open and the handshake to be answered.' },
  requestTimeoutMs: { unit: 'ms', default: 30_000, min: 1, max: 600_000, doc: 'Longest wait for a response; the request then fails with REQUEST_TIMED_OUT (it may still take effect).' },
  queuedRequestsMax: { unit: 'count', default: 100_000, min: 1, max: 10_000_000, doc: 'Requests waiting for one of the broker\'s maxInFlightRequestsPerConnection slots; more are refused (buffer-full).' },
} as const satisfies Record<string, NumericSetting>;

/**
 * How every client (Producer, Consumer, Admin) follows a cluster: how old its picture of partition
 * leaders may get, and how it retries a request that went to a broker that is gone or is no longer
 * the leader (or coordinator): forget the route, wait, refresh metadata, send again.
 */
export const CLUSTER_SETTINGS = {
  metadataMaxAgeMs: { unit: 'ms', default: 300_000, min: 1, max: 86_400_000, doc: 'Metadata of a topic older than this is refreshed at its next use even without an error, so leaders that moved are found (Kafka\'s metadata.max.age.ms).' },
  retries: { unit: 'count', default: 10, min: 0, max: 1_000, doc: 'Times a request (or a producer batch) is sent again after a retriable error, a leader change or a lost connection, before it fails with the last typed error.' },
  retryBackoffMs: { unit: 'ms', default: 100, min: 1, max: 60_000, doc: 'Wait before the first retry (and the metadata refresh that goes with it); it doubles each time up to retryBackoffMsMax, with ±20% jitter.' },
  retryBackoffMsMax: { unit: 'ms', default: 1_000, min: 1, max: 600_000, doc: 'Longest wait between two retries (or a consumer\'s two resubscriptions).' },
} as const satisfies Record<string, NumericSetting>;

export const PRODUCER_SETTINGS = {
  lingerMs: { unit: 'ms', default: 5, min: 0, max: 60_000, doc: 'How long a batch waits for more records before it is sent (Kafka\'s linger.ms). 0 sends on the next turn of the event loop.' },
  batchBytes: { unit: 'bytes', default: 256 * KIB, min: 128, max: 64 * MIB, doc: 'A batch is sent once adding a record would make it larger. Keep it below the broker\'s batchBytesMax (1 MiB by default); a single record larger than this gets a batch of its own.' },
  bufferBytesMax: { unit: 'bytes', default: 32 * MIB, min: 1 * KIB, max: 1024 * MIB, doc: 'Bytes of records accepted by send() and not yet acknowledged; send() waits (backpressure) while more are buffered.' },
  bufferWaitMsMax: { unit: 'ms', default: 60_000, min: 0, max: 3_600_000, doc: 'Longest a send() waits for room in bufferBytesMax (or for its topic\'s metadata) before it fails with buffer-full.' },
  sendQueueLengthMax: { unit: 'count', default: 1_000_000, min: 1, max: 100_000_000, doc: 'send() calls waiting for room; more fail at once with buffer-full, so a caller that never awaits cannot queue without bound.' },
  produceTimeoutMs: { unit: 'ms', default: 30_000, min: 1, max: 600_000, doc: 'The Produce request\'s timeoutMs: how long the broker may wait for durability before answering REQUEST_TIMED_OUT. The client waits this plus PRODUCE_RESPONSE_MARGIN_MS (5 s) for the response (requestTimeoutMs does not apply to Produce).' },
} as const satisfies Record<string, NumericSetting>;

export const CONSUMER_SETTINGS = {
  batchBytesMax: { unit: 'bytes', default: 1 * MIB, min: 61, max: 256 * MIB, doc: 'The broker\'s batchBytesMax (its handshake does not say it). The consumer keeps twice this in credit per partition so that the broker can always push the next batch.' },
  autoCommitIntervalMs: { unit: 'ms', default: 5_000, min: 10, max: 3_600_000, doc: 'How often consumed positions are committed when autoCommit is on.' },
  reconnectAttemptsMax: { unit: 'count', default: 10, min: 0, max: 1_000, doc: 'Times in a row a partition is subscribed again (after its leader\'s connection is lost, its leader moved, or its subscription failed retriably) before the record iterator fails.' },
} as const satisfies Record<string, NumericSetting>;

/** The resolved values of a settings table. */
export type SettingValues<T extends Record<string, NumericSetting>> = { readonly [K in keyof T]: number };

/**
 * Checks the options named in `table` (absent or undefined means the default) and returns them
 * frozen. A value that is not an integer within its bounds is an invalid-argument error naming
 * the setting, its unit and bounds.
 */
export function resolveSettings<T extends Record<string, NumericSetting>>(
  table: T, options: { readonly [K in keyof T]?: number | undefined }, context: string,
): SettingValues<T> {
  const values: Record<string, number> = {};
  for (const name of Object.keys(table) as Array<keyof T & string>) {
    const setting = table[name]!;
    const value = options[name] ?? setting.default;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < setting.min || value > setting.max) {
      throw new SluiceClientError('invalid-argument',
        `${context}.${name} = ${String(value)}: must be an integer in [${setting.min}, ${setting.max}] ${setting.unit}`);
    }
    values[name] = value;
  }
  return Object.freeze(values) as SettingValues<T>;
}
