import { readFileSync } from 'node:fs';

/**
 * Every broker setting, its default, its unit and its bounds, in one table. Units go last in the
 * names. A setting that may be "off" is nullable and says so; no number means "unlimited".
 */
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface IntegerSetting {
  readonly kind: 'integer';
  /** What one unit of the value is; bytes and ms settings end their names with it. */
  readonly unit: 'bytes' | 'ms' | 'count' | 'id' | 'port';
  readonly default: number | null;
  readonly min: number;
  readonly max: number;
  readonly nullable?: true;
  readonly doc: string;
}
interface StringSetting {
  readonly kind: 'string';
  readonly default: string;
  readonly choices?: readonly string[];
  readonly doc: string;
}
type Setting = IntegerSetting | StringSetting;

export const BROKER_SETTINGS = {
  dataDir: { kind: 'string', default: './data', doc: 'Directory holding partition logs, checkpoints and meta.properties.' },
  brokerId: { kind: 'integer', unit: 'id', default: 0, min: 0, max: 2 ** 31 - 1, doc: 'This broker\'s id; recorded in meta.properties, which refuses another.' },
  host: { kind: 'string', default: '127.0.0.1', doc: 'Address the HTTP/WebSocket server listens on; loopback unless told otherwise.' },
  port: { kind: 'integer', unit: 'port', default: 9092, min: 0, max: 65535, doc: 'TCP port of the HTTP/WebSocket server (0 picks a free port, which the broker logs).' },
  maxFrameBytes: { kind: 'integer', unit: 'bytes', default: 8 * MIB, min: 64 * KIB, max: 256 * MIB, doc: 'Largest WebSocket message either way; checked before it is buffered (ws maxPayload). Must exceed batchBytesMax.' },
  httpBodyBytesMax: { kind: 'integer', unit: 'bytes', default: 1 * MIB, min: 1 * KIB, max: 64 * MIB, doc: 'Largest HTTP request body (the JSON of a produce or topic request); a larger one gets 413 before it is buffered. Records in it are split into batches of at most batchBytesMax.' },
  maxConnections: { kind: 'integer', unit: 'count', default: 1024, min: 1, max: 1_000_000, doc: 'Open client connections; further upgrades get HTTP 503.' },
  maxInFlightRequestsPerConnection: { kind: 'integer', unit: 'count', default: 256, min: 1, max: 65_536, doc: 'Requests awaiting a response on one connection; one more closes it (1008). Bounds per-connection memory.' },
  inFlightRequestBytesMax: { kind: 'integer', unit: 'bytes', default: 64 * MIB, min: 64 * KIB, max: 4 * GIB, doc: 'Bytes of requests one connection may have being handled; above it the broker stops reading that connection until some complete. Bounds memory per flooding client.' },
  sendQueueBytesMax: { kind: 'integer', unit: 'bytes', default: 32 * MIB, min: 64 * KIB, max: 1 * GIB, doc: 'Bytes queued towards one client above which the broker stops reading its requests until they drain; bounds memory per slow client.' },
  creditBytesMax: { kind: 'integer', unit: 'bytes', default: 16 * MIB, min: 64 * KIB, max: 1 * GIB, doc: 'Most push credit one subscription may hold; bounds what a slow consumer can make the broker send ahead.' },
  fetchWaitMsMax: { kind: 'integer', unit: 'ms', default: 30_000, min: 0, max: 300_000, doc: 'Longest a Fetch may wait for minBytes; a larger maxWaitMs is clamped. Bounds how long a request holds its slot.' },
  maxSubscriptionsPerConnection: { kind: 'integer', unit: 'count', default: 1024, min: 1, max: 1_000_000, doc: 'Push subscriptions one connection may hold open.' },
  offsetsTopicPartitionCount: { kind: 'integer', unit: 'count', default: 8, min: 1, max: 1000, doc: 'Partitions of __consumer_offsets, fixed when it is first created (groups map to one by hash). Kafka uses 50; one standalone broker needs fewer open logs.' },
  partitionCountMax: { kind: 'integer', unit: 'count', default: 10_000, min: 1, max: 1_000_000, doc: 'Most partitions a topic may be created with.' },
  etcd: { kind: 'string', default: '', doc: 'etcd endpoints, comma-separated (e.g. http://127.0.0.1:2379): run as a member of the cluster they coordinate. Empty: standalone, cluster metadata kept in the data directory.' },
  etcdPrefix: { kind: 'string', default: '/sluice', doc: 'Prefix of every etcd key this cluster uses, so several clusters can share one etcd.' },
  brokerSessionTimeoutMs: { kind: 'integer', unit: 'ms', default: 6_000, min: 1_000, max: 300_000, doc: 'TTL of the etcd lease under which this broker is registered (whole seconds, rounded up): a broker silent this long is dead to the cluster and loses its leaderships.' },
  replicaLagTimeMaxMs: { kind: 'integer', unit: 'ms', default: 10_000, min: 100, max: 600_000, doc: 'A follower not caught up with the leader for this long leaves the ISR (Kafka\'s replica.lag.time.max.ms).' },
  replicaFetchWaitMs: { kind: 'integer', unit: 'ms', default: 500, min: 0, max: 30_000, doc: 'Longest a follower\'s fetch waits at the leader for new records.' },
  replicaFetchBytesMax: { kind: 'integer', unit: 'bytes', default: 4 * MIB, min: 64 * KIB, max: 256 * MIB, doc: 'Most bytes one follower fetch asks for, over all partitions it follows from one leader; at least one batch per partition comes back.' },
  replicaRetryBackoffMs: { kind: 'integer', unit: 'ms', default: 200, min: 1, max: 60_000, doc: 'Pause after a failed follower fetch round (leader gone, not ready) before the next.' },
  offsetsTopicReplicationFactor: { kind: 'integer', unit: 'count', default: 3, min: 1, max: 16, doc: 'Replication factor of __consumer_offsets when it is first created, capped by the live brokers then (min(3, brokers) by default).' },
  leaderRebalanceIntervalMs: { kind: 'integer', unit: 'ms', default: 30_000, min: 100, max: DAY_MS, doc: 'How often the controller moves leadership back to each partition\'s preferred replica when it is live and in sync.' },
  leaderRebalanceDelayMs: { kind: 'integer', unit: 'ms', default: 10_000, min: 0, max: DAY_MS, doc: 'How long a preferred replica must have been live before the controller moves leadership back to it.' },
  controllerRetryBackoffMs: { kind: 'integer', unit: 'ms', default: 1_000, min: 1, max: 60_000, doc: 'Pause before the controller retries a pass that failed (etcd unreachable).' },
  logLevel: { kind: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], doc: 'pino log level.' },
  segmentBytes: { kind: 'integer', unit: 'bytes', default: GIB, min: 1 * KIB, max: 2 ** 31 - 1, doc: 'Roll a segment before it grows past this. File positions are u32 in the index, and Kafka\'s default is 1 GiB.' },
  segmentMs: { kind: 'integer', unit: 'ms', default: 7 * DAY_MS, min: 1, max: Number.MAX_SAFE_INTEGER, doc: 'Roll a non-empty segment once it has been active this long, so time retention can delete it.' },
  indexIntervalBytes: { kind: 'integer', unit: 'bytes', default: 4 * KIB, min: 1, max: 2 ** 31 - 1, doc: 'Bytes of log between sparse index entries; bounds the scan after an index lookup.' },
  indexBytesMax: { kind: 'integer', unit: 'bytes', default: 10 * MIB, min: 12, max: 2 ** 31 - 1, doc: 'Size cap of each index of a segment; a full index rolls the segment (Kafka\'s segment.index.bytes).' },
  batchBytesMax: { kind: 'integer', unit: 'bytes', default: 1 * MIB, min: 61, max: 64 * MIB, doc: 'Largest record batch accepted, header included (Kafka\'s message.max.bytes).' },
  retentionBytes: { kind: 'integer', unit: 'bytes', default: null, nullable: true, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Delete old segments while a partition is bigger than this; null keeps any size.' },
  retentionMs: { kind: 'integer', unit: 'ms', default: 7 * DAY_MS, nullable: true, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Delete segments whose newest record is older than this; null keeps any age.' },
  groupCommitBytesMax: { kind: 'integer', unit: 'bytes', default: 4 * MIB, min: 1 * KIB, max: 256 * MIB, doc: 'Most bytes one group commit writes before its fsync; bounds the latency one fsync adds.' },
  inlineWriteBytesMax: { kind: 'integer', unit: 'bytes', default: 256 * KIB, min: 0, max: 256 * MIB, doc: 'A group commit writing at most this many bytes writes on the event loop (one writev), not through the thread pool: a hand-off less before its fsync. Larger groups go to the thread pool so that one write cannot stall every connection; 0 sends all of them there.' },
  tailCacheBytesMax: { kind: 'integer', unit: 'bytes', default: 1 * MIB, min: 0, max: 1 * GIB, doc: 'Newest bytes of each partition log kept in memory, so that followers\' fetches and pushes to caught-up consumers skip a file read; 0 turns it off. Memory: up to this per partition, and tailCacheTotalBytesMax in all.' },
  tailCacheTotalBytesMax: { kind: 'integer', unit: 'bytes', default: 64 * MIB, min: 0, max: 64 * GIB, doc: 'Bytes all partitions\' tail caches may hold together; past it the oldest cached batches of any partition go first. Bounds the caches\' memory however many partitions the broker holds.' },
  checkpointIntervalMs: { kind: 'integer', unit: 'ms', default: 10_000, min: 10, max: DAY_MS, doc: 'How often recovery points and high watermarks are checkpointed, with the active segments\' index files; bounds what a crash re-scans (what was written since).' },
  retentionCheckIntervalMs: { kind: 'integer', unit: 'ms', default: 5 * 60_000, min: 10, max: DAY_MS, doc: 'How often retention runs.' },
} as const satisfies Record<string, Setting>;

type Settings = typeof BROKER_SETTINGS;
type ValueOf<S> = S extends { kind: 'string' } ? string : S extends { nullable: true } ? number | null : number;

/** The validated, frozen broker configuration. */
export type BrokerConfig = { readonly [K in keyof Settings]: ValueOf<Settings[K]> };

/** A setting name, e.g. 'segmentBytes'. */
export type SettingName = keyof Settings;

/** A configuration value that fails validation; names the setting and where it came from. */
export class ConfigError extends Error {
  constructor(readonly setting: string, readonly source: string, detail: string) {
    super(`${setting} (from ${source}): ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Where raw values come from, lowest precedence first. */
export interface ConfigSources {
  /** Path of a JSON file of { settingName: value }. */
  readonly file?: string;
  /** Environment; SLUICE_SEGMENT_BYTES sets segmentBytes. */
  readonly env?: NodeJS.ProcessEnv;
  /** Command-line flags, already parsed, by setting name. */
  readonly flags?: Partial<Record<SettingName, unknown>>;
}

/** Builds the config from defaults, file, env and flags (later wins), validated and frozen. */
export function loadBrokerConfig(sources: ConfigSources = {}): BrokerConfig {
  const raw = new Map<SettingName, { value: unknown; source: string }>();
  if (sources.file !== undefined) readFileSource(sources.file, raw);
  for (const name of settingNames()) {
    const fromEnv = sources.env?.[envName(name)];
    if (fromEnv !== undefined) raw.set(name, { value: fromEnv, source: `env ${envName(name)}` });
    const fromFlag = sources.flags?.[name];
    if (fromFlag !== undefined) raw.set(name, { value: fromFlag, source: 'command line' });
  }
  const config: Record<string, unknown> = {};
  for (const name of settingNames()) {
    const given = raw.get(name);
    config[name] = given === undefined ? BROKER_SETTINGS[name].default : validate(name, BROKER_SETTINGS[name], given.value, given.source);
  }
  const frozen = Object.freeze(config) as BrokerConfig;
  checkRelations(frozen, (name) => raw.get(name)?.source ?? 'default');
  return frozen;
}

// Room a frame needs besides one batch: frame header, response fields, topic names.
const FRAME_OVERHEAD_BYTES_MIN = 4 * KIB;

// Settings that are valid alone but not together: the broker could start and then fail every
// fetch, or fail at start with a protocol error instead of naming the setting.
function checkRelations(config: BrokerConfig, sourceOf: (name: SettingName) => string): void {
  if (config.maxFrameBytes < config.batchBytesMax + FRAME_OVERHEAD_BYTES_MIN) {
    throw new ConfigError('maxFrameBytes', sourceOf('maxFrameBytes'), `${config.maxFrameBytes} must exceed batchBytesMax (${config.batchBytesMax}) by at least ${FRAME_OVERHEAD_BYTES_MIN}, so a fetch can carry a whole batch`);
  }
  if (config.creditBytesMax < config.batchBytesMax) {
    throw new ConfigError('creditBytesMax', sourceOf('creditBytesMax'), `${config.creditBytesMax} must be at least batchBytesMax (${config.batchBytesMax}), or a subscription could never receive its next batch`);
  }
  if (config.partitionCountMax < config.offsetsTopicPartitionCount) {
    throw new ConfigError('partitionCountMax', sourceOf('partitionCountMax'), `${config.partitionCountMax} is below offsetsTopicPartitionCount (${config.offsetsTopicPartitionCount})`);
  }
}

/** SLUICE_SEGMENT_BYTES for segmentBytes. */
export function envName(name: SettingName): string {
  return `SLUICE_${name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

function settingNames(): SettingName[] {
  return Object.keys(BROKER_SETTINGS) as SettingName[];
}

function readFileSource(path: string, raw: Map<SettingName, { value: unknown; source: string }>): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('config file', path, (error as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('config file', path, 'must be a JSON object');
  for (const [name, value] of Object.entries(parsed)) {
    if (!(name in BROKER_SETTINGS)) throw new ConfigError(name, path, `unknown setting; known: ${settingNames().join(', ')}`);
    raw.set(name as SettingName, { value, source: path });
  }
}

function validate(name: string, setting: Setting, value: unknown, source: string): unknown {
  if (setting.kind === 'string') {
    if (typeof value !== 'string' || value === '') throw new ConfigError(name, source, 'must be a non-empty string');
    if (setting.choices !== undefined && !setting.choices.includes(value)) throw new ConfigError(name, source, `must be one of ${setting.choices.join(', ')}`);
    return value;
  }
  if (value === null || value === 'null') {
    if (setting.nullable === true) return null;
    throw new ConfigError(name, source, 'may not be null');
  }
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new ConfigError(name, source, `must be an integer, got ${JSON.stringify(value)}`);
  if (number < setting.min || number > setting.max) throw new ConfigError(name, source, `${number} is outside [${setting.min}, ${setting.max}]`);
  return number;
}
