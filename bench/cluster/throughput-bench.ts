import { Admin, Producer, type Acks } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { LatencyRecorder, type LatencySummaryMs } from '../common/latency.js';
import { produceAsFastAsPossible, type ProduceFigures } from '../common/produce-run.js';
import { formatNumber } from '../common/table.js';
import type { BenchCluster } from './cluster-processes.js';
import { waitForIsr } from './partition-state.js';

/**
 * Produce throughput on a 3-broker cluster, replicated against not: the produce loop of
 * bench/broker (one producer, null keys, as many sends in flight as it takes) on a topic of RF 3
 * and one of RF 1, each with 3 partitions whose leaders are spread over the brokers. Each case
 * has a topic of its own, so no case reads or replicates another's data.
 */

/** One case: a replication factor and the producer's acks. */
export interface ThroughputCase {
  readonly replicationFactor: 1 | 3;
  readonly acks: Acks;
}

export interface ThroughputFigures extends ProduceFigures {
  readonly replicationFactor: number;
  readonly acks: string;
  /** send() → acknowledgement of each record, queueing in the producer included (the loop keeps it full). */
  readonly latencyMs: LatencySummaryMs;
}

/** The cases in the order they run and are reported. */
export const THROUGHPUT_CASES: readonly ThroughputCase[] = [
  { replicationFactor: 3, acks: 'all' },
  { replicationFactor: 3, acks: 1 },
  { replicationFactor: 1, acks: 1 },
  { replicationFactor: 1, acks: 'all' },
];

const PARTITIONS = 3;
/** The same bound as bench/broker's produce run. */
const IN_FLIGHT_SENDS_MAX = 20_000;
const ISR_WAIT_MS_MAX = 60_000;

/** Runs every case with `recordCount` records of `valueBytes` bytes. */
export async function throughputBench(
  cluster: BenchCluster, recordCount: number, valueBytes: number, progress: (line: string) => void,
): Promise<ThroughputFigures[]> {
  const admin = new Admin({ brokers: cluster.urls(), webSocketFactory: nodeWebSocket, clientId: 'bench-admin' });
  const figures: ThroughputFigures[] = [];
  try {
    for (const [index, benchCase] of THROUGHPUT_CASES.entries()) {
      const topic = `throughput-${index}-rf${benchCase.replicationFactor}`;
      await admin.createTopic(topic, PARTITIONS, benchCase.replicationFactor);
      await waitForIsr(admin, topic, benchCase.replicationFactor, ISR_WAIT_MS_MAX);
      figures.push(await runCase(cluster, topic, benchCase, recordCount, valueBytes, progress));
    }
  } finally {
    admin.close();
  }
  return figures;
}

async function runCase(
  cluster: BenchCluster, topic: string, benchCase: ThroughputCase, recordCount: number, valueBytes: number, progress: (line: string) => void,
): Promise<ThroughputFigures> {
  const label = `produce RF=${benchCase.replicationFactor} acks=${benchCase.acks}`;
  const producer = new Producer({ brokers: cluster.urls(), webSocketFactory: nodeWebSocket, clientId: 'bench', acks: benchCase.acks });
  await producer.connect();
  const latency = new LatencyRecorder();
  try {
    progress(`${label}: ${formatNumber(recordCount, 0)} records`);
    const produced = await produceAsFastAsPossible({
      producer, topic, recordCount, valueBytes, inFlightSendsMax: IN_FLIGHT_SENDS_MAX, latency,
      progress: (sent) => progress(`${label}: ${formatNumber(sent, 0)} / ${formatNumber(recordCount, 0)} records`),
    });
    return { ...produced, replicationFactor: benchCase.replicationFactor, acks: String(benchCase.acks), latencyMs: latency.summary() };
  } finally {
    await producer.close();
  }
}
