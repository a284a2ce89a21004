import { SluiceError } from '../errors/sluice-error.js';
import {
  freezePartitionState, isBrokerId as isId, isBrokerIdList as isIdList, partitionStateProblem,
  type BrokerInfo, type PartitionState, type TopicConfig,
} from './metadata-store.js';

/**
 * The values of the etcd metadata store's keys (etcd-keys.ts): JSON, UTF-8, each with a
 * `"format": 1` so that a later layout can be told apart. Decoding checks every field: etcd is
 * shared, a value may have been written by another build or by hand, and a broker must not act on
 * one it does not understand (SluiceError UNKNOWN_SERVER_ERROR naming the key).
 *
 *   brokers/<id>          {"format":1,"brokerId":1,"host":"10.0.0.1","port":9092}
 *   controller            {"format":1,"brokerId":1}
 *   topics/<name>         {"format":1,"topicId":"<uuid>","createdAtMs":1700000000000,
 *                          "config":{"minInsyncReplicas":2,"uncleanLeaderElection":false},
 *                          "replicas":[[1,2,3],[2,3,1]]}          index = partition number
 *   topic-claims/<key>    the topic name, as plain text
 *   partitions/<name>/<p> {"format":1,"topicId":"<uuid>","leaderId":1,"leaderEpoch":3,
 *                          "replicas":[1,2,3],"isr":[1,2]}       leaderId null: no leader
 *   producer-id           empty
 *
 * A partition without a key is in its initial state, derived from the topic: leader
 * `replicas[0]`, epoch 0, ISR = replicas. Its partition key carries the topic id so that a watch
 * event names the topic instance it belongs to without another read.
 */

/** The `format` every value is written with and the only one read. */
export const ETCD_VALUE_FORMAT = 1;

/** A topic as its key holds it. */
export interface StoredTopicValue {
  readonly topicId: string;
  readonly createdAtMs: number;
  readonly config: TopicConfig;
  /** `replicas[p]`: partition p's replicas, preferred leader first. */
  readonly replicas: readonly (readonly number[])[];
}

/** A partition state as its key holds it. */
export interface StoredPartitionValue {
  readonly topicId: string;
  readonly state: PartitionState;
}

/** The value of `brokers/<id>`. */
export function encodeBroker(info: BrokerInfo): Buffer {
  return json({ format: ETCD_VALUE_FORMAT, brokerId: info.brokerId, host: info.host, port: info.port });
}

/** A broker from its key's value; UNKNOWN_SERVER_ERROR when it cannot be believed. */
export function decodeBroker(key: Buffer, value: Buffer): BrokerInfo {
  const document = parse(key, value);
  const { brokerId, host, port } = document;
  if (!isId(brokerId) || typeof host !== 'string' || !isId(port) || port > 65_535) {
    throw unreadable(key, 'a broker needs an integer brokerId, a string host and a port in [0, 65535]');
  }
  return Object.freeze({ brokerId, host, port });
}

/** The value of `controller`. */
export function encodeController(brokerId: number): Buffer {
  return json({ format: ETCD_VALUE_FORMAT, brokerId });
}

/** The controller's broker id from its key's value. */
export function decodeController(key: Buffer, value: Buffer): number {
  const { brokerId } = parse(key, value);
  if (!isId(brokerId)) throw unreadable(key, 'the controller needs an integer brokerId');
  return brokerId;
}

/** The value of `topics/<name>`. */
export function encodeTopic(topic: StoredTopicValue): Buffer {
  const { minInsyncReplicas, uncleanLeaderElection } = topic.config;
  return json({
    format: ETCD_VALUE_FORMAT, topicId: topic.topicId, createdAtMs: topic.createdAtMs,
    config: { minInsyncReplicas, uncleanLeaderElection }, replicas: topic.replicas,
  });
}

/** A topic from its key's value; UNKNOWN_SERVER_ERROR when it cannot be believed. */
export function decodeTopic(key: Buffer, value: Buffer): StoredTopicValue {
  const { topicId, createdAtMs, config, replicas } = parse(key, value);
  if (typeof topicId !== 'string' || topicId === '') throw unreadable(key, '"topicId" is not a non-empty string');
  if (!isId(createdAtMs)) throw unreadable(key, '"createdAtMs" is not a non-negative integer');
  if (!isRecord(config) || !isId(config['minInsyncReplicas']) || config['minInsyncReplicas'] < 1 || typeof config['uncleanLeaderElection'] !== 'boolean') {
    throw unreadable(key, '"config" needs a positive minInsyncReplicas and a boolean uncleanLeaderElection');
  }
  if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every((list) => isIdList(list) && list.length > 0)) {
    throw unreadable(key, '"replicas" is not a non-empty list of non-empty lists of distinct broker ids');
  }
  const frozenConfig = Object.freeze({ minInsyncReplicas: config['minInsyncReplicas'], uncleanLeaderElection: config['uncleanLeaderElection'] });
  return Object.freeze({ topicId, createdAtMs, config: frozenConfig, replicas: Object.freeze(replicas.map((list: number[]) => Object.freeze([...list]))) });
}

/** A partition's state before anything changed it: led by its preferred replica, all in sync. */
export function initialPartitionState(replicas: readonly number[]): PartitionState {
  return freezePartitionState({ leaderId: replicas[0]!, leaderEpoch: 0, replicas, isr: replicas });
}

/** The value of `partitions/<name>/<p>`. */
export function encodePartition(topicId: string, state: PartitionState): Buffer {
  return json({
    format: ETCD_VALUE_FORMAT, topicId, leaderId: state.leaderId, leaderEpoch: state.leaderEpoch,
    replicas: state.replicas, isr: state.isr,
  });
}

/** A partition state and its topic id from its key's value; UNKNOWN_SERVER_ERROR when it cannot be believed. */
export function decodePartition(key: Buffer, value: Buffer): StoredPartitionValue {
  const { topicId, leaderId, leaderEpoch, replicas, isr } = parse(key, value);
  if (typeof topicId !== 'string' || topicId === '') throw unreadable(key, '"topicId" is not a non-empty string');
  if (leaderId !== null && !isId(leaderId)) throw unreadable(key, '"leaderId" is neither null nor a broker id');
  if (!isId(leaderEpoch)) throw unreadable(key, '"leaderEpoch" is not a non-negative integer');
  if (!isIdList(replicas) || replicas.length === 0) throw unreadable(key, '"replicas" is not a non-empty list of distinct broker ids');
  if (!isIdList(isr)) throw unreadable(key, '"isr" is not a list of distinct broker ids');
  const state = { leaderId, leaderEpoch, replicas, isr };
  const problem = partitionStateProblem(state);
  if (problem !== null) throw unreadable(key, problem);
  return Object.freeze({ topicId, state: freezePartitionState(state) });
}

function json(document: object): Buffer {
  return Buffer.from(JSON.stringify(document), 'utf8');
}

function parse(key: Buffer, value: Buffer): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw unreadable(key, `not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(document)) throw unreadable(key, 'not a JSON object');
  if (document['format'] !== ETCD_VALUE_FORMAT) {
    throw unreadable(key, `format ${JSON.stringify(document['format'])}, this build reads ${ETCD_VALUE_FORMAT}`);
  }
  return document;
}

function unreadable(key: Buffer, reason: string): SluiceError {
  return new SluiceError('UNKNOWN_SERVER_ERROR', `etcd key ${JSON.stringify(key.toString('utf8'))} cannot be believed: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
