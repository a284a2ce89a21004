import { open } from 'node:fs/promises';
import { assert } from '../errors/assert.js';
import {
  DEFAULT_TOPIC_CONFIG, freezePartitionState, isBrokerIdList, partitionStateProblem,
  type BrokerInfo, type PartitionState, type TopicConfig, type TopicMetadata, type Versioned,
} from './metadata-store.js';
import { topicCollisionKey, validateTopicName } from './topic-rules.js';

/**
 * `<dataDir>/cluster-metadata.json`, the standalone metadata store's authoritative copy
 * (standalone-metadata-store.ts): its format, and its encoding and decoding.
 *
 * File format (JSON, UTF-8; field order as written):
 *
 *   {
 *     "version": 1,                  format version; any other value refuses to start
 *     "revision": 7,                 the last revision handed out; every change takes the next one
 *     "broker": { "brokerId": 1, "host": "localhost", "port": 9092 },
 *     "topics": [                    ordered by name
 *       {
 *         "name": "orders",
 *         "topicId": "0b8f5c1e-...",  random UUID, new for every creation of the name
 *         "createdAtMs": 1700000000000,
 *         "config": { "minInsyncReplicas": 1, "uncleanLeaderElection": false },  (absent: the defaults)
 *         "partitions": [            index = partition number
 *           { "version": 7, "leaderId": 1, "leaderEpoch": 0, "replicas": [1], "isr": [1] }
 *         ]
 *       }
 *     ]
 *   }
 *
 * A partition's `version` is the revision of the change that last wrote its state (as etcd's
 * `mod_revision`). Revisions only grow, across restarts too, so a version is never reused: a
 * compare-and-swap based on a state read before a restart, or before its topic was deleted and
 * created again, fails. `leaderId` is null for a partition without a leader.
 *
 * A missing file is a fresh cluster. A file that cannot be read or believed stops the broker at
 * open with CorruptMetadataFileError: this file is the only record of which topics exist, and
 * starting with an empty one would silently orphan every partition log in the data directory.
 */

export const CLUSTER_METADATA_FILE = 'cluster-metadata.json';
export const CLUSTER_METADATA_FORMAT_VERSION = 1;

/**
 * Bounds the read at open. A partition costs under 100 bytes of JSON, so this holds hundreds of
 * thousands of partitions, far more than one standalone broker serves.
 */
export const CLUSTER_METADATA_FILE_BYTES_MAX = 64 * 1024 * 1024;

/** The metadata file exists but cannot be believed; the broker must not start on it. */
export class CorruptMetadataFileError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(
      `${path}: ${reason}. Refusing to start: this file is the only record of which topics exist, and ` +
      'starting without it would orphan every partition log in the data directory. Restore it from a ' +
      'backup or repair it by hand (its format is described at the top of src/cluster/cluster-metadata-file.ts).',
    );
    this.name = 'CorruptMetadataFileError';
  }
}

// In-memory state (derived: always what the file last persisted). Every object in it is frozen;
// a change builds a new StoreState and swaps it in once the file holds it.
/** A topic as the store keeps it: its metadata and the version of each partition's state. */
export interface StoredTopic {
  readonly metadata: TopicMetadata;
  /** `versions[p]` is the version of `metadata.partitions[p]`. */
  readonly versions: readonly number[];
}

/** Everything the file holds, decoded. */
export interface StoreState {
  readonly revision: number;
  readonly broker: BrokerInfo;
  readonly topics: ReadonlyMap<string, StoredTopic>;
}

/** A MetadataStore for one broker without etcd; see the top of this file. */
export function encodeClusterMetadata(state: StoreState): string {
  const topics = [...state.topics.values()].map(({ metadata, versions }) => ({
    name: metadata.name,
    topicId: metadata.topicId,
    createdAtMs: metadata.createdAtMs,
    config: { minInsyncReplicas: metadata.config.minInsyncReplicas, uncleanLeaderElection: metadata.config.uncleanLeaderElection },
    partitions: metadata.partitions.map((partition, p) => ({
      version: versions[p]!,
      leaderId: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      replicas: partition.replicas,
      isr: partition.isr,
    })),
  }));
  const { brokerId, host, port } = state.broker;
  const document = { version: CLUSTER_METADATA_FORMAT_VERSION, revision: state.revision, broker: { brokerId, host, port }, topics };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Parses the file's text into a state, or says why it cannot be believed. Pure. */
export function decodeClusterMetadata(text: string): StoreState | string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  if (!isRecord(document)) return 'not a JSON object';
  if (document['version'] !== CLUSTER_METADATA_FORMAT_VERSION) {
    return `format version ${JSON.stringify(document['version'])}, this build reads ${CLUSTER_METADATA_FORMAT_VERSION}`;
  }
  const revision = document['revision'];
  if (!isNonNegativeInteger(revision)) return '"revision" is not a non-negative integer';
  const broker = decodeBroker(document['broker']);
  if (typeof broker === 'string') return broker;
  const topics = document['topics'];
  if (!Array.isArray(topics)) return '"topics" is not an array';
  const decoded = new Map<string, StoredTopic>();
  for (const [index, topic] of topics.entries()) {
    const stored = decodeTopic(topic, revision);
    if (typeof stored === 'string') return `topics[${index}]: ${stored}`;
    const clash = checkUnique(stored, decoded);
    if (clash !== null) return `topics[${index}]: ${clash}`;
    decoded.set(stored.metadata.name, stored);
  }
  return { revision, broker, topics: sortedByName(decoded) };
}

export async function readMetadataFile(path: string): Promise<StoreState | null> {
  let text: string;
  try {
    text = await readBounded(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (error instanceof CorruptMetadataFileError) throw error;
    throw new CorruptMetadataFileError(path, `unreadable (${(error as Error).message})`);
  }
  const state = decodeClusterMetadata(text);
  if (typeof state === 'string') throw new CorruptMetadataFileError(path, state);
  return state;
}

async function readBounded(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > CLUSTER_METADATA_FILE_BYTES_MAX) {
      throw new CorruptMetadataFileError(path, `${size} bytes is more than the ${CLUSTER_METADATA_FILE_BYTES_MAX} allowed`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function decodeBroker(value: unknown): BrokerInfo | string {
  if (!isRecord(value)) return '"broker" is not an object';
  const { brokerId, host, port } = value;
  if (!isNonNegativeInteger(brokerId) || typeof host !== 'string' || !isNonNegativeInteger(port) || port > 65_535) {
    return '"broker" needs a non-negative integer brokerId, a string host and a port in [0, 65535]';
  }
  return Object.freeze({ brokerId, host, port });
}

function decodeTopic(value: unknown, revision: number): StoredTopic | string {
  if (!isRecord(value)) return 'not an object';
  const { name, topicId, createdAtMs, partitions, config: storedConfig } = value;
  if (typeof name !== 'string') return '"name" is not a string';
  const invalidName = validateTopicName(name, { allowInternal: true });
  if (invalidName !== null) return invalidName.message;
  if (typeof topicId !== 'string' || topicId === '') return `${name}: "topicId" is not a non-empty string`;
  if (!isNonNegativeInteger(createdAtMs)) return `${name}: "createdAtMs" is not a non-negative integer`;
  if (!Array.isArray(partitions) || partitions.length === 0) return `${name}: "partitions" is not a non-empty array`;
  const config = decodeTopicConfig(storedConfig);
  if (typeof config === 'string') return `${name}: ${config}`;
  const states: PartitionState[] = [];
  const versions: number[] = [];
  for (const [p, partition] of partitions.entries()) {
    const decoded = decodePartition(partition, revision);
    if (typeof decoded === 'string') return `${name}-${p}: ${decoded}`;
    states.push(decoded.value);
    versions.push(decoded.version);
  }
  return freezeTopic({ name, topicId, createdAtMs, config, partitions: states }, versions);
}

// Files written before topic configs existed have none: their topics have the defaults.
function decodeTopicConfig(value: unknown): TopicConfig | string {
  if (value === undefined) return DEFAULT_TOPIC_CONFIG;
  if (!isRecord(value)) return '"config" is not an object';
  const { minInsyncReplicas, uncleanLeaderElection } = value;
  if (!isNonNegativeInteger(minInsyncReplicas) || minInsyncReplicas < 1) return '"config.minInsyncReplicas" is not a positive integer';
  if (typeof uncleanLeaderElection !== 'boolean') return '"config.uncleanLeaderElection" is not a boolean';
  return Object.freeze({ minInsyncReplicas, uncleanLeaderElection });
}

function decodePartition(value: unknown, revision: number): Versioned<PartitionState> | string {
  if (!isRecord(value)) return 'not an object';
  const { version, leaderId, leaderEpoch, replicas, isr } = value;
  if (!isNonNegativeInteger(version) || version < 1 || version > revision) return `"version" is not an integer in [1, revision ${revision}]`;
  if (leaderId !== null && !isNonNegativeInteger(leaderId)) return '"leaderId" is neither null nor a broker id';
  if (!isNonNegativeInteger(leaderEpoch)) return '"leaderEpoch" is not a non-negative integer';
  if (!isBrokerIdList(replicas) || replicas.length === 0) return '"replicas" is not a non-empty list of distinct broker ids';
  if (!isBrokerIdList(isr)) return '"isr" is not a list of distinct broker ids';
  const state = { leaderId, leaderEpoch, replicas, isr };
  const inconsistent = partitionStateProblem(state);
  if (inconsistent !== null) return inconsistent;
  return { value: freezePartitionState(state), version };
}

function checkUnique(topic: StoredTopic, seen: ReadonlyMap<string, StoredTopic>): string | null {
  const { name, topicId } = topic.metadata;
  for (const other of seen.values()) {
    if (other.metadata.name === name) return `topic ${JSON.stringify(name)} appears twice`;
    if (topicCollisionKey(other.metadata.name) === topicCollisionKey(name)) return `topics ${JSON.stringify(other.metadata.name)} and ${JSON.stringify(name)} collide`;
    if (other.metadata.topicId === topicId) return `topic id ${topicId} is used twice`;
  }
  return null;
}

export function freezeTopic(metadata: TopicMetadata, versions: readonly number[]): StoredTopic {
  assert(versions.length === metadata.partitions.length, 'one version per partition');
  const frozen = Object.freeze({ ...metadata, partitions: Object.freeze([...metadata.partitions]), config: Object.freeze({ ...metadata.config }) });
  return Object.freeze({ metadata: frozen, versions: Object.freeze([...versions]) });
}

export function sortedByName(topics: ReadonlyMap<string, StoredTopic>): ReadonlyMap<string, StoredTopic> {
  return new Map([...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
