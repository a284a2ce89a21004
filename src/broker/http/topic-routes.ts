import type { CreateTopicRequest, TopicMetadata } from '../../cluster/metadata-store.js';
import { isInternalTopicName } from '../../cluster/topic-rules.js';
import { SluiceError } from '../../errors/sluice-error.js';
import { parseJsonBody, readBoundedBody } from './bounded-body.js';
import type { HttpContext, Reply, RouteCall } from './route-types.js';

/** One partition as the topic routes show it; offsets are null where this broker does not lead. */
interface PartitionJson {
  partition: number;
  leaderId: number | null;
  leaderEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
  logStartOffset: number | null;
  highWatermark: number | null;
  logEndOffset: number | null;
}

const CREATE_FIELDS = new Set(['name', 'partitions', 'replicationFactor', 'minInsyncReplicas']);

/** `GET|POST /v1/topics`, `GET|DELETE /v1/topics/:topic`. */
export class TopicRoutes {
  constructor(private readonly context: HttpContext) {}

  readonly list = async (): Promise<Reply> => ({
    status: 200,
    json: { topics: this.context.partitions.describe(null).map(({ topic }) => this.topicJson(topic!)) },
  });

  readonly describe = async (call: RouteCall): Promise<Reply> => {
    const [described] = this.context.partitions.describe([call.params.topic!]);
    if (described?.topic == null) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `no topic ${JSON.stringify(call.params.topic)}`);
    return { status: 200, json: this.topicJson(described.topic) };
  };

  /** Body `{ name, partitions, replicationFactor?, minInsyncReplicas? }`; 201 with the new topic. */
  readonly create = async (call: RouteCall): Promise<Reply> => {
    const body = parseJsonBody(await readBoundedBody(call.request, this.context.config.httpBodyBytesMax));
    const request = decodeCreateBody(body);
    const topic = await this.context.partitions.createTopic(request);
    return { status: 201, json: this.topicJson(topic) };
  };

  readonly delete = async (call: RouteCall): Promise<Reply> => {
    const name = call.params.topic!;
    await this.context.partitions.deleteTopic(name);
    return { status: 200, json: { name, deleted: true } };
  };

  private topicJson(topic: TopicMetadata): unknown {
    return {
      name: topic.name,
      topicId: topic.topicId,
      internal: isInternalTopicName(topic.name),
      config: { minInsyncReplicas: topic.config.minInsyncReplicas, uncleanLeaderElection: topic.config.uncleanLeaderElection },
      partitions: topic.partitions.map((state, partition): PartitionJson => ({
        partition, leaderId: state.leaderId, leaderEpoch: state.leaderEpoch, replicas: state.replicas, isr: state.isr,
        ...this.offsetsOf(topic.name, partition),
      })),
    };
  }

  private offsetsOf(topic: string, partition: number): Pick<PartitionJson, 'logStartOffset' | 'highWatermark' | 'logEndOffset'> {
    try {
      const { log } = this.context.partitions.leader(topic, partition);
      return { logStartOffset: log.logStartOffset, highWatermark: log.highWatermark, logEndOffset: log.logEndOffset };
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      return { logStartOffset: null, highWatermark: null, logEndOffset: null };
    }
  }
}

// Shape only: the metadata store checks the name, the count and the factor against its rules.
function decodeCreateBody(body: unknown): CreateTopicRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be an object { name, partitions, replicationFactor?, minInsyncReplicas? }');
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!CREATE_FIELDS.has(name)) throw invalid(`unknown field ${JSON.stringify(name)}`);
  if (typeof fields.name !== 'string') throw invalid('"name" must be a string');
  if (typeof fields.partitions !== 'number') throw invalid('"partitions" must be an integer');
  const replicationFactor = fields.replicationFactor ?? 1;
  if (typeof replicationFactor !== 'number') throw invalid('"replicationFactor" must be an integer');
  if (fields.minInsyncReplicas !== undefined && typeof fields.minInsyncReplicas !== 'number') throw invalid('"minInsyncReplicas" must be an integer');
  const config = fields.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: fields.minInsyncReplicas };
  return { name: fields.name, partitionCount: fields.partitions, replicationFactor, config };
}

function invalid(detail: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', detail);
}
