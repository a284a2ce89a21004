import { BROKER_SETTINGS } from '../../../src/config/broker-config.js';
import { BenchCluster, BenchResources } from '../../cluster/cluster-processes.js';
import type { Acks } from '../../../src/client/index.js';
import type { AckMeaning, SystemUnderTest } from '../system.js';
import { SLUICE_CLUSTER_RF1_NAME, SLUICE_CLUSTER_RF3_NAME } from './sluice-names.js';
import { sluiceVersion } from './sluice.js';
import { SluiceSystem, SluiceWorkloads } from './sluice-workloads.js';

/**
 * Sluice on a three-broker dev-cluster (etcd plus three `sluice broker --etcd` processes, as
 * bench/cluster starts them): RF 3 with acks=all against RF 1 with acks=1 on the same shape of
 * cluster, so (f) compares replication and nothing else. Each system starts a cluster of its own.
 */

const BROKERS = 3;

/** How one cluster system stores and acknowledges records. */
interface ClusterCase {
  readonly name: string;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly acks: Acks;
  readonly ack: Omit<AckMeaning, 'evidence'>;
}

const CASES: readonly ClusterCase[] = [
  {
    name: SLUICE_CLUSTER_RF1_NAME, replicationFactor: 1, minInsyncReplicas: 1, acks: 1,
    ack: { fsynced: true, description: 'acks=1: fdatasync on the leader before the ack' },
  },
  {
    name: SLUICE_CLUSTER_RF3_NAME, replicationFactor: 3, minInsyncReplicas: 2, acks: 'all',
    ack: { fsynced: true, description: 'acks=all: fdatasync on the leader and every in-sync follower (min ISR 2) before the ack' },
  },
];

/** The two dev-cluster systems, RF 1 first. */
export async function sluiceClusterSystems(log: (line: string) => void): Promise<SystemUnderTest[]> {
  void log;
  const version = sluiceVersion();
  return CASES.map((clusterCase) => new SluiceDevCluster(clusterCase, version));
}

class SluiceDevCluster extends SluiceSystem {
  readonly name: string;
  readonly client: string;
  readonly server: string;
  readonly replicas: number;
  private readonly resources = new BenchResources();
  private cluster: BenchCluster | null = null;

  constructor(private readonly clusterCase: ClusterCase, version: string) {
    super();
    this.name = clusterCase.name;
    this.client = `${version} client (ws)`;
    this.server = `${version} broker ×${BROKERS} + etcd`;
    this.replicas = clusterCase.replicationFactor;
  }

  async start(): Promise<void> {
    this.cluster = await BenchCluster.start(BROKERS, BROKER_SETTINGS.brokerSessionTimeoutMs.default, this.resources);
    const { replicationFactor, minInsyncReplicas, acks } = this.clusterCase;
    this.workloads = await SluiceWorkloads.connect({ brokerUrls: this.cluster.urls(), acks, replicationFactor, minInsyncReplicas });
  }

  async stop(): Promise<void> {
    this.workloads?.close();
    this.workloads = null;
    await this.cluster?.stop();
    this.cluster = null;
    await this.resources.abort();
  }

  /** The brokers only: etcd holds metadata, not records. */
  serverPids(): readonly number[] {
    return this.cluster === null ? [] : this.cluster.runningBrokers().map((broker) => broker.pid);
  }

  ackMeaning(): AckMeaning {
    return { ...this.clusterCase.ack, evidence: 'documented (docs/replication.md); not traced' };
  }
}
