import { SluiceError } from '../../errors/sluice-error.js';
import type {
  CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, MetadataRequest, MetadataResponse,
  TopicResult,
} from '../../protocol/index.js';
import { OK, codeOf, type HandlerContext } from './handler-context.js';

/** Metadata: this broker, and the topics asked for (all when `allTopics`). */
export function handleMetadata(context: HandlerContext, request: MetadataRequest): MetadataResponse {
  const { host, port } = context.advertised();
  const described = context.partitions.describe(request.allTopics ? null : request.topics);
  const topics = described.map(({ name, topic }) => {
    if (topic === null) return { errorCode: codeOf('UNKNOWN_TOPIC_OR_PARTITION'), name, partitions: [] };
    const partitions = topic.partitions.map((state, partition) => ({
      errorCode: state.leaderId === null ? codeOf('LEADER_NOT_AVAILABLE') : 0,
      partition,
      // -1 on the wire for "no leader", as Kafka writes it; the errorCode says so too.
      leaderId: state.leaderId ?? -1,
      leaderEpoch: state.leaderEpoch,
      replicas: state.replicas,
      isr: state.isr,
    }));
    return { errorCode: 0, name, partitions };
  });
  return { ...OK, brokers: [{ brokerId: context.brokerId, host, port }], topics };
}

/** CreateTopics: each topic succeeds or fails on its own. */
export async function handleCreateTopics(context: HandlerContext, request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
  const results: TopicResult[] = [];
  for (const topic of request.topics) {
    results.push(await topicResult(topic.name, () => context.partitions.createTopic({
      name: topic.name, partitionCount: topic.partitionCount, replicationFactor: topic.replicationFactor,
    })));
  }
  return { ...OK, results };
}

/** DeleteTopics: each topic succeeds or fails on its own; internal topics are refused. */
export async function handleDeleteTopics(context: HandlerContext, request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
  const results: TopicResult[] = [];
  for (const name of request.names) results.push(await topicResult(name, () => context.partitions.deleteTopic(name)));
  return { ...OK, results };
}

async function topicResult(name: string, action: () => Promise<unknown>): Promise<TopicResult> {
  try {
    await action();
    return { name, errorCode: 0, errorMessage: null };
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    return { name, errorCode: error.code, errorMessage: error.message };
  }
}
