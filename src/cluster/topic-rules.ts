import { SluiceError } from '../errors/sluice-error.js';
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from './metadata-store.js';

/**
 * The rules a new topic must satisfy (docs/protocol.md, CreateTopics), as Kafka states them.
 * Pure: each check returns the typed error to report, or null when the value is acceptable, so
 * that a CreateTopics handler can report one result per topic without try/catch.
 */

/**
 * Longest topic name, in characters (all of them ASCII). Kafka's limit: a partition directory
 * `<topic>-<partition>` must fit in a 255-byte file name with room for the partition number.
 */
export const TOPIC_NAME_LENGTH_MAX = 249;

/** Names starting with this are internal topics (`__consumer_offsets`), not for users. */
export const INTERNAL_TOPIC_PREFIX = '__';

const TOPIC_NAME_CHARACTER = /^[a-zA-Z0-9._-]$/;

/** Whether a name is reserved for the broker's own topics. */
export function isInternalTopicName(name: string): boolean {
  return name.startsWith(INTERNAL_TOPIC_PREFIX);
}

/**
 * Null when `name` is a valid topic name: 1 to 249 characters of `[a-zA-Z0-9._-]`, not `.` or
 * `..` (they name directories), and not internal (`__` prefix) unless `allowInternal` is set,
 * which only the broker does, for topics such as `__consumer_offsets`.
 */
export function validateTopicName(name: string, options: { readonly allowInternal?: boolean } = {}): SluiceError | null {
  if (name.length === 0) return invalidTopic('the name is empty');
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    return invalidTopic(`the name is ${name.length} characters long, more than the ${TOPIC_NAME_LENGTH_MAX} allowed`);
  }
  if (name === '.' || name === '..') return invalidTopic(`'${name}' is not allowed as a name`);
  for (const character of name) {
    if (!TOPIC_NAME_CHARACTER.test(character)) {
      return invalidTopic(`${JSON.stringify(name)} contains ${JSON.stringify(character)}; only [a-zA-Z0-9._-] are allowed`);
    }
  }
  if (isInternalTopicName(name) && options.allowInternal !== true) {
    return invalidTopic(`${JSON.stringify(name)} starts with '${INTERNAL_TOPIC_PREFIX}', which is reserved for internal topics`);
  }
  return null;
}

/**
 * The form under which two names collide: Kafka's metric names replace '.' with '_', so
 * `a.b` and `a_b` could not be told apart and may not both exist.
 */
export function topicCollisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/**
 * Null when `name` collides with none of `existingNames`; otherwise INVALID_TOPIC_EXCEPTION
 * naming the existing topic. A name equal to an existing one is not a collision but a duplicate
 * (TOPIC_ALREADY_EXISTS), which the caller checks first.
 */
export function validateNoTopicCollision(name: string, existingNames: Iterable<string>): SluiceError | null {
  const key = topicCollisionKey(name);
  for (const existing of existingNames) {
    if (existing !== name && topicCollisionKey(existing) === key) {
      return invalidTopic(`${JSON.stringify(name)} collides with the existing topic ${JSON.stringify(existing)} ('.' and '_' are interchangeable in topic names)`);
    }
  }
  return null;
}

/** Null when `partitionCount` is an integer in `[1, partitionCountMax]`. */
export function validatePartitionCount(partitionCount: number, partitionCountMax: number): SluiceError | null {
  if (Number.isInteger(partitionCount) && partitionCount >= 1 && partitionCount <= partitionCountMax) return null;
  return new SluiceError('INVALID_PARTITIONS', `partition count ${partitionCount} is outside [1, ${partitionCountMax}]`);
}

/** Null when `replicationFactor` is an integer in `[1, brokerCount]`. */
export function validateReplicationFactor(replicationFactor: number, brokerCount: number): SluiceError | null {
  if (Number.isInteger(replicationFactor) && replicationFactor >= 1 && replicationFactor <= brokerCount) return null;
  return new SluiceError(
    'INVALID_REPLICATION_FACTOR',
    `replication factor ${replicationFactor} is outside [1, ${brokerCount}] (the number of brokers)`,
  );
}

function invalidTopic(reason: string): SluiceError {
  return new SluiceError('INVALID_TOPIC_EXCEPTION', reason);
}

/** A topic's config from what CreateTopics asked, defaults filled in; INVALID_CONFIG when it cannot hold. */
export function topicConfigOf(asked: Partial<TopicConfig> | undefined, replicationFactor: number): TopicConfig {
  const config = { ...DEFAULT_TOPIC_CONFIG, ...asked };
  if (!Number.isSafeInteger(config.minInsyncReplicas) || config.minInsyncReplicas < 1 || config.minInsyncReplicas > replicationFactor) {
    throw new SluiceError('INVALID_CONFIG', `minInsyncReplicas ${config.minInsyncReplicas} is outside [1, replication factor ${replicationFactor}]`);
  }
  return Object.freeze(config);
}
