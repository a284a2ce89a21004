import type { Logger } from 'pino';
import type { BrokerConfig } from '../config/broker-config.js';
import { logConfigOf } from '../config/log-config-of.js';
import { crc32cImplementation } from '../record/index.js';
import { LogManager } from '../storage/log-manager.js';

/**
 * A broker process. So far it owns the storage of one data directory: it recovers every
 * partition log at start, checkpoints and applies retention while it runs, and writes clean
 * checkpoints at stop. The network face (WebSocket protocol, HTTP) is not built yet.
 */
export class Broker {
  private constructor(readonly config: BrokerConfig, readonly logs: LogManager, private readonly logger: Logger) {}

  /** Opens and recovers the data directory. `onFatal` must stop the process. */
  static async start(config: BrokerConfig, logger: Logger, onFatal: (error: Error) => void): Promise<Broker> {
    if (crc32cImplementation !== 'native') {
      logger.warn({ crc32cImplementation }, 'CRC-32C runs in JavaScript (about 20x slower): the sse4_crc32 addon was not built; reinstall with its install script allowed');
    }
    const logs = await LogManager.open({
      dataDir: config.dataDir,
      brokerId: config.brokerId,
      config: logConfigOf(config),
      checkpointIntervalMs: config.checkpointIntervalMs,
      retentionCheckIntervalMs: config.retentionCheckIntervalMs,
      highWatermarkFollowsFlush: true,
      nowMs: () => Date.now(),
      logger,
      onFatal,
    });
    logger.info({ dataDir: config.dataDir, partitions: logs.partitions.size, clusterId: logs.meta.clusterId, crc32cImplementation }, 'broker started');
    return new Broker(config, logs, logger);
  }

  /** Closes every log and writes checkpoints, so the next start scans nothing. */
  async stop(): Promise<void> {
    await this.logs.close();
    this.logger.info('broker stopped cleanly');
  }
}
