import type { HttpContext, Reply } from './route-types.js';

/** One local partition log as `GET /v1/replicas` shows it (docs/http.md). */
interface ReplicaJson {
  topic: string;
  partition: number;
  role: 'leader' | 'follower' | 'none';
  /** The leader epoch this broker leads or follows at; null when it does neither. */
  leaderEpoch: number | null;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
}

/**
 * `GET /v1/replicas`: every partition log on this broker with its role and offsets, so that a
 * tool can see each replica's high watermark and log end (Metadata shows only the leader's view).
 */
export class ReplicaRoutes {
  constructor(private readonly context: HttpContext) {}

  readonly list = async (): Promise<Reply> => ({
    status: 200,
    json: {
      brokerId: this.context.config.brokerId,
      replicas: this.context.partitions.localReplicas().map(({ topic, partition, role, leaderEpoch, log }): ReplicaJson => ({
        topic, partition, role, leaderEpoch,
        logStartOffset: log.logStartOffset, highWatermark: log.highWatermark, logEndOffset: log.logEndOffset,
      })),
    },
  });
}
