import type { MetadataResponse } from '../protocol/index.js';

/**
 * What `sluice cluster describe --format json` prints (README: a stable interface). Brokers,
 * controller, leaders, epochs, replicas and ISR come from one Metadata answer; each replica's
 * high watermark and log end from its own broker's `GET /v1/replicas`.
 */
export interface ClusterDescription {
  readonly brokers: readonly { readonly brokerId: number; readonly host: string; readonly port: number }[];
  /** null when there is no controller. */
  readonly controllerId: number | null;
  readonly topics: readonly TopicState[];
}

export interface TopicState {
  readonly name: string;
  readonly partitions: readonly PartitionReplicasState[];
}

export interface PartitionReplicasState {
  readonly partition: number;
  /** null when the partition has no leader. */
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** One per replica, in `replicas` order; null offsets where that broker could not be asked or holds no log. */
  readonly replicasState: readonly ReplicaState[];
}

export interface ReplicaState {
  readonly brokerId: number;
  readonly highWatermark: number | null;
  readonly logEndOffset: number | null;
}

/** One broker's `GET /v1/replicas` answer (docs/http.md), as far as describe needs it. */
export interface ReplicaReport {
  readonly replicas: readonly { readonly topic: string; readonly partition: number; readonly highWatermark: number; readonly logEndOffset: number }[];
}

/** Joins Metadata and the brokers' replica reports (absent for a broker that did not answer). */
export function describeClusterFrom(metadata: MetadataResponse, reports: ReadonlyMap<number, ReplicaReport>): ClusterDescription {
  const offsets = new Map<string, { highWatermark: number; logEndOffset: number }>();
  for (const [brokerId, report] of reports) {
    for (const replica of report.replicas) offsets.set(replicaKey(brokerId, replica.topic, replica.partition), replica);
  }
  const topics = metadata.topics
    .filter((topic) => topic.errorCode === 0)
    .map((topic) => ({
      name: topic.name,
      partitions: [...topic.partitions].sort((a, b) => a.partition - b.partition).map((partition) => ({
        partition: partition.partition,
        // The wire's -1 for "none" stays on the wire.
        leader: partition.leaderId < 0 ? null : partition.leaderId,
        leaderEpoch: partition.leaderEpoch,
        replicas: partition.replicas,
        isr: partition.isr,
        replicasState: partition.replicas.map((brokerId) => {
          const known = offsets.get(replicaKey(brokerId, topic.name, partition.partition));
          return { brokerId, highWatermark: known?.highWatermark ?? null, logEndOffset: known?.logEndOffset ?? null };
        }),
      })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    brokers: [...metadata.brokers].sort((a, b) => a.brokerId - b.brokerId).map(({ brokerId, host, port }) => ({ brokerId, host, port })),
    controllerId: metadata.controllerId === undefined || metadata.controllerId < 0 ? null : metadata.controllerId,
    topics,
  };
}

/** The description as text: brokers, then one table row per partition. */
export function clusterDescriptionText(description: ClusterDescription): string[] {
  const controller = description.controllerId === null ? 'none' : String(description.controllerId);
  const lines = [`controller ${controller}`, ''];
  lines.push(...table([
    ['broker', 'host', 'port', ''],
    ...description.brokers.map(({ brokerId, host, port }) => [String(brokerId), host, String(port), brokerId === description.controllerId ? 'controller' : '']),
  ]));
  lines.push('');
  if (description.topics.length === 0) return [...lines, 'no topics'];
  const rows = [['topic', 'partition', 'leader', 'epoch', 'replicas', 'isr', 'hw/leo per replica']];
  for (const topic of description.topics) {
    for (const p of topic.partitions) {
      const offsets = p.replicasState.map((r) => `${r.brokerId}:${r.highWatermark ?? '?'}/${r.logEndOffset ?? '?'}`).join(' ');
      rows.push([topic.name, String(p.partition), p.leader === null ? 'none' : String(p.leader), String(p.leaderEpoch), p.replicas.join(','), p.isr.join(','), offsets]);
    }
  }
  return [...lines, ...table(rows)];
}

// Columns padded to their widest cell, two spaces apart; no trailing blanks.
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd());
}

function replicaKey(brokerId: number, topic: string, partition: number): string {
  return `${brokerId}\u0000${topic}\u0000${partition}`;
}
