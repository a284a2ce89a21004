import type { Logger } from 'pino';
import type { MetadataStore } from '../cluster/metadata-store.js';
import { StandaloneMetadataStore } from '../cluster/standalone-metadata-store.js';
import { nodeWebSocket } from '../client/node.js';
import { Connection } from '../client/connection.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { logConfigOf } from '../config/log-config-of.js';
import { Controller } from '../cluster/controller.js';
import type { TopicMetadata } from '../cluster/metadata-store.js';
import { SluiceError } from '../errors/sluice-error.js';
import { GroupOffsetStore, OFFSETS_TOPIC } from '../group/group-offset-store.js';
import { LogManager } from '../storage/log-manager.js';
import { BrokerServer } from './broker-server.js';
import { httpHandler } from './http-routes.js';
import { BrokerMetrics } from './metrics.js';
import { reportNativeAddons } from './native-addons.js';
import { PartitionManager } from './partition-manager.js';
import { appendRecords } from './produce-path.js';
import { BrokerRequestRouter } from './request-router.js';

/**
 * A broker process: the storage of one data directory, the cluster metadata (standalone: kept
 * in the data directory), the partitions it leads, and one HTTP server whose `/ws` speaks the
 * binary protocol. Started in that order and stopped in reverse, so no request reaches a log
 * that is not open.
 */
export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly logs: LogManager,
    private readonly metadata: MetadataStore,
    readonly partitions: PartitionManager,
    readonly server: BrokerServer,
    private readonly controllerRole: ControllerRole,
    private readonly logger: Logger,
  ) {}

  /** Opens, recovers and starts serving. `onFatal` must stop the process. */
  static async start(config: BrokerConfig, logger: Logger, onFatal: (error: Error) => void): Promise<Broker> {
    const addons = reportNativeAddons();
    // Always said, native or not, so a log shows which CRC and masking every start ran with.
    logger.info(addons, 'native addons');
    if (addons.crc32c !== 'native' || addons.websocketMasking !== 'native') {
      logger.warn({ addons }, 'a native addon did not load and its JavaScript fallback runs (several times slower); reinstall with install scripts allowed');
    }
    const metrics = new BrokerMetrics({ processMetrics: true, nativeAddons: addons });
    const logs = await LogManager.open({
      dataDir: config.dataDir, brokerId: config.brokerId, config: logConfigOf(config),
      checkpointIntervalMs: config.checkpointIntervalMs, retentionCheckIntervalMs: config.retentionCheckIntervalMs,
      // In a cluster the high watermark is the least log end over the ISR, set by each leader.
      highWatermarkFollowsFlush: config.etcd === '', nowMs: () => Date.now(), logger, onFatal,
      syncObserver: { nowMs: () => performance.now(), onSync: metrics.observeSync },
      tailCacheTotalBytesMax: config.tailCacheTotalBytesMax,
    });
    const metadata = await openMetadataStore(config, logger);
    const partitions = await PartitionManager.start(logs, metadata, config.brokerId, {
      replicaLagTimeMaxMs: config.replicaLagTimeMaxMs, nowMs: () => Date.now(), isrChanged: (kind) => metrics.isrChanged(kind),
      fetcher: {
        connect: (broker) => Connection.connect({ url: `ws://${broker.host}:${broker.port}`, webSocketFactory: nodeWebSocket, clientId: `replica-${config.brokerId}` }),
        fetchWaitMs: config.replicaFetchWaitMs, fetchBytesMax: config.replicaFetchBytesMax, batchBytesMax: config.batchBytesMax,
        retryBackoffMs: config.replicaRetryBackoffMs,
      },
    }, logger);
    const offsets = await startGroupOffsetStore(config, partitions, logger);
    let boundPort = config.port;
    const router = new BrokerRequestRouter({
      config, brokerId: config.brokerId, partitions, logger, offsets, metrics, allocateProducerId: () => metadata.allocateProducerId(),
      ensureOffsetsTopic: async () => { await ensureOffsetsTopic(config, partitions); },
      advertised: () => ({ host: config.host, port: boundPort }),
    });
    partitions.onLeadership((topic, partition, leader) => {
      if (leader === null) router.leadershipEnded(topic, partition);
    });
    const server = await BrokerServer.listen({
      host: config.host, port: config.port, maxConnections: config.maxConnections, maxFrameBytes: config.maxFrameBytes,
      connectionLimits: {
        maxInFlightRequestsPerConnection: config.maxInFlightRequestsPerConnection,
        sendQueueBytesMax: config.sendQueueBytesMax,
        inFlightRequestBytesMax: config.inFlightRequestBytesMax,
      },
      router, httpHandler: httpHandler({ config, partitions, metrics, nowMs: () => Date.now(), logger: logger.child({ http: true }) }), logger,
    });
    boundPort = server.port;
    // Registered only now: other brokers and clients learn of it once it can be reached.
    await metadata.registerBroker({ brokerId: config.brokerId, host: config.host, port: server.port });
    const controllerRole = new ControllerRole(config, metadata, logger);
    await metadata.campaignForController(config.brokerId, controllerRole);
    metrics.attach({
      connectionCount: () => server.connectionCount, logs: () => logs.partitions, underReplicatedPartitions: () => partitions.underReplicatedCount(),
      leaderElections: () => controllerRole.leaderElections, tailCacheBytes: () => logs.tailCacheBytes,
    });
    logger.info({
      host: config.host, port: server.port, dataDir: config.dataDir, partitions: logs.partitions.size,
      clusterId: logs.meta.clusterId, addons,
    }, 'broker started');
    return new Broker(config, logs, metadata, partitions, server, controllerRole, logger);
  }

  /** Stops serving, then closes every log and writes checkpoints, so the next start scans nothing. */
  async stop(): Promise<void> {
    await this.server.close();
    await this.controllerRole.resigned();
    await this.partitions.stop();
    await this.metadata.close();
    await this.logs.close();
    this.logger.info('broker stopped cleanly');
  }
}

/**
 * This broker's part in the controller election: a fresh Controller for each term (it picks up
 * from the store's state alone), stopped when the term ends. Terms never overlap here: a start
 * waits for the previous stop.
 */
class ControllerRole {
  private controller: Controller | null = null;
  private transition: Promise<void> = Promise.resolve();
  private electionsInEarlierTerms = 0;

  constructor(private readonly config: BrokerConfig, private readonly store: MetadataStore, private readonly logger: Logger) {}

  /** Leader changes made as controller, over every term. */
  get leaderElections(): number {
    const stats = this.controller?.stats;
    const current = stats === undefined ? 0 : stats.cleanLeaderElections + stats.uncleanLeaderElections + stats.preferredLeaderElections;
    return this.electionsInEarlierTerms + current;
  }

  readonly elected = (): void => {
    this.transition = this.transition.then(async () => {
      this.logger.info('elected controller');
      this.controller = new Controller({
        store: this.store, logger: this.logger, nowMs: () => Date.now(),
        leaderRebalanceIntervalMs: this.config.leaderRebalanceIntervalMs, leaderRebalanceDelayMs: this.config.leaderRebalanceDelayMs,
        passRetryBackoffMs: this.config.controllerRetryBackoffMs,
      });
      await this.controller.start();
    }).catch((error: unknown) => this.logger.error({ err: error }, 'controller failed to start'));
  };

  readonly resigned = (): Promise<void> => {
    this.transition = this.transition.then(async () => {
      const controller = this.controller;
      if (controller === null) return;
      this.controller = null;
      const stats = controller.stats;
      this.electionsInEarlierTerms += stats.cleanLeaderElections + stats.uncleanLeaderElections + stats.preferredLeaderElections;
      await controller.stop();
      this.logger.info('no longer controller');
    }).catch((error: unknown) => this.logger.error({ err: error }, 'controller failed to stop'));
    return this.transition;
  };
}

// Standalone without --etcd; otherwise a member of the cluster that etcd coordinates.
async function openMetadataStore(config: BrokerConfig, logger: Logger): Promise<MetadataStore> {
  if (config.etcd === '') {
    return StandaloneMetadataStore.open({
      dataDir: config.dataDir, broker: { brokerId: config.brokerId, host: config.host, port: config.port },
      partitionCountMax: config.partitionCountMax, nowMs: () => Date.now(),
    });
  }
  // Loaded only for a cluster member: etcd3 (with gRPC) takes about 0.3 s to import, which a
  // standalone broker's start (and its restart after a crash) need not pay.
  const { EtcdMetadataStore } = await import('../cluster/etcd-metadata-store.js');
  return EtcdMetadataStore.open({
    endpoints: config.etcd.split(',').map((endpoint) => endpoint.trim()).filter((endpoint) => endpoint !== ''),
    prefix: config.etcdPrefix, brokerSessionTimeoutMs: config.brokerSessionTimeoutMs, partitionCountMax: config.partitionCountMax,
    nowMs: () => Date.now(), logger: logger.child({ etcd: true }),
  });
}

/**
 * The group coordinator: it loads the offsets of each `__consumer_offsets` partition this broker
 * comes to lead and drops them when leadership moves. Standalone, the topic is created at first
 * start; in a cluster, at the first group request (ensureOffsetsTopic), when the brokers are up,
 * with the replication factor min(offsetsTopicReplicationFactor, live brokers), as Kafka does.
 */
async function startGroupOffsetStore(config: BrokerConfig, partitions: PartitionManager, logger: Logger): Promise<GroupOffsetStore> {
  const [existing] = partitions.describe([OFFSETS_TOPIC]);
  const topic = existing?.topic ?? (config.etcd === '' ? await ensureOffsetsTopic(config, partitions) : null);
  const partitionCount = topic?.partitions.length ?? config.offsetsTopicPartitionCount;
  const store = new GroupOffsetStore(partitionCount, async (partition, batch) => {
    await appendRecords(partitions.leader(OFFSETS_TOPIC, partition), batch, config.batchBytesMax, -1);
  }, () => Date.now());
  partitions.onLeadership((name, partition, leader) => {
    if (name !== OFFSETS_TOPIC) return;
    if (leader === null) return store.unload(partition);
    store.load(partition, leader.log, logger).then(
      (commits) => logger.info({ partition, commits }, 'committed offsets loaded'),
      (error: unknown) => logger.error({ err: error, partition }, 'could not load committed offsets'),
    );
  });
  return store;
}

/** `__consumer_offsets`, created now if it does not exist yet. */
export async function ensureOffsetsTopic(config: BrokerConfig, partitions: PartitionManager): Promise<TopicMetadata> {
  const [existing] = partitions.describe([OFFSETS_TOPIC]);
  if (existing?.topic != null) return existing.topic;
  const liveBrokers = Math.max(1, partitions.liveBrokers().length);
  try {
    return await partitions.createTopic({
      name: OFFSETS_TOPIC, partitionCount: config.offsetsTopicPartitionCount,
      replicationFactor: Math.min(config.offsetsTopicReplicationFactor, liveBrokers), allowInternal: true,
    });
  } catch (error) {
    // Another broker created it first.
    if (!(error instanceof SluiceError) || error.errorName !== 'TOPIC_ALREADY_EXISTS') throw error;
    const [created] = partitions.describe([OFFSETS_TOPIC]);
    if (created?.topic == null) throw error;
    return created.topic;
  }
}
