import type { Logger } from 'pino';
import { StandaloneMetadataStore } from '../cluster/standalone-metadata-store.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { logConfigOf } from '../config/log-config-of.js';
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
    private readonly metadata: StandaloneMetadataStore,
    readonly partitions: PartitionManager,
    readonly server: BrokerServer,
    private readonly logger: Logger,
  ) {}

  /** Opens, recovers and starts serving. `onFatal` must stop the process. */
  static async start(config: BrokerConfig, logger: Logger, onFatal: (error: Error) => void): Promise<Broker> {
    const addons = reportNativeAddons();
    if (addons.crc32c !== 'native' || addons.websocketMasking !== 'native') {
      logger.warn({ addons }, 'a native addon did not load and its JavaScript fallback runs (several times slower); reinstall with install scripts allowed');
    }
    const metrics = new BrokerMetrics({ processMetrics: true });
    const logs = await LogManager.open({
      dataDir: config.dataDir, brokerId: config.brokerId, config: logConfigOf(config),
      checkpointIntervalMs: config.checkpointIntervalMs, retentionCheckIntervalMs: config.retentionCheckIntervalMs,
      highWatermarkFollowsFlush: true, nowMs: () => Date.now(), logger, onFatal,
      syncObserver: { nowMs: () => performance.now(), onSync: metrics.observeSync },
    });
    const metadata = await StandaloneMetadataStore.open({
      dataDir: config.dataDir, broker: { brokerId: config.brokerId, host: config.host, port: config.port },
      partitionCountMax: config.partitionCountMax, nowMs: () => Date.now(),
    });
    const partitions = await PartitionManager.start(logs, metadata, config.brokerId, logger);
    const offsets = await startGroupOffsetStore(config, partitions, logger);
    let boundPort = config.port;
    const router = new BrokerRequestRouter({
      config, brokerId: config.brokerId, partitions, logger, offsets, metrics, allocateProducerId: () => metadata.allocateProducerId(),
      advertised: () => ({ host: config.host, port: boundPort }),
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
    metrics.attach({ connectionCount: () => server.connectionCount, logs: () => logs.partitions });
    logger.info({
      host: config.host, port: server.port, dataDir: config.dataDir, partitions: logs.partitions.size,
      clusterId: logs.meta.clusterId, addons,
    }, 'broker started');
    return new Broker(config, logs, metadata, partitions, server, logger);
  }

  /** Stops serving, then closes every log and writes checkpoints, so the next start scans nothing. */
  async stop(): Promise<void> {
    await this.server.close();
    this.partitions.stop();
    await this.metadata.close();
    await this.logs.close();
    this.logger.info('broker stopped cleanly');
  }
}

// Creates __consumer_offsets on first start, then replays every partition of it into memory.
async function startGroupOffsetStore(config: BrokerConfig, partitions: PartitionManager, logger: Logger): Promise<GroupOffsetStore> {
  const [existing] = partitions.describe([OFFSETS_TOPIC]);
  const topic = existing?.topic ?? await partitions.createTopic({
    name: OFFSETS_TOPIC, partitionCount: config.offsetsTopicPartitionCount, replicationFactor: 1, allowInternal: true,
  });
  const partitionCount = topic.partitions.length;
  const store = new GroupOffsetStore(partitionCount, async (partition, batch) => {
    const { log, leaderEpoch } = partitions.leader(OFFSETS_TOPIC, partition);
    await appendRecords(log, batch, config.batchBytesMax, leaderEpoch);
  }, () => Date.now());
  let commits = 0;
  for (let partition = 0; partition < partitionCount; partition++) {
    commits += await store.replay(partitions.leader(OFFSETS_TOPIC, partition).log, logger);
  }
  logger.info({ partitions: partitionCount, commits }, 'committed offsets loaded');
  return store;
}
