import { SluiceError } from '../../errors/sluice-error.js';
import type { TopicConfig } from '../../cluster/metadata-store.js';
import type {
  CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, MetadataRequest, MetadataResponse,
  NewTopic, TopicResult,
} from '../../protocol/index.js';
import { DEFAULT_MIN_INSYNC_REPLICAS, topicResultsFrameBytesMax } from '../../protocol/index.js';
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
  // Every live broker, so that a client can reach each partition's leader; this one until it is registered.
  const live = context.partitions.liveBrokers();
  const brokers = live.some((broker) => broker.brokerId === context.brokerId) ? live : [...live, { brokerId: context.brokerId, host, port }];
  return { ...OK, brokers, controllerId: context.partitions.controllerId ?? -1, topics };
}

/** CreateTopics: each topic succeeds or fails on its own. */
export async function handleCreateTopics(context: HandlerContext, request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
  checkAnswerFits(context, request.topics.map((topic) => topic.name));
  const results: TopicResult[] = [];
  for (const topic of request.topics) {
    results.push(await topicResult(topic.name, () => context.partitions.createTopic({
      name: topic.name, partitionCount: topic.partitionCount, replicationFactor: topic.replicationFactor,
      config: topicConfigAsked(topic),
    })));
  }
  return { ...OK, results: withinFrame(context, results) };
}

// -1 leaves minInsyncReplicas to the store's default; any other value is judged by the store (INVALID_CONFIG).
function topicConfigAsked(topic: NewTopic): Partial<TopicConfig> {
  const asked = topic.minInsyncReplicas ?? DEFAULT_MIN_INSYNC_REPLICAS;
  return asked === DEFAULT_MIN_INSYNC_REPLICAS ? {} : { minInsyncReplicas: asked };
}

/** DeleteTopics: each topic succeeds or fails on its own; internal topics are refused. */
export async function handleDeleteTopics(context: HandlerContext, request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
  checkAnswerFits(context, request.names);
  const results: TopicResult[] = [];
  for (const name of request.names) results.push(await topicResult(name, () => context.partitions.deleteTopic(name)));
  return { ...OK, results: withinFrame(context, results) };
}

// These requests change state, so an answer that could not be sent must be refused before
// anything is done: the answer without error messages is the least it can be.
function checkAnswerFits(context: HandlerContext, names: readonly string[]): void {
  const bytes = topicResultsFrameBytesMax(names.map((name) => ({ name, errorCode: 0, errorMessage: null })));
  if (bytes > context.config.maxFrameBytes) {
    throw new SluiceError('RESPONSE_TOO_LARGE', `the answer for ${names.length} topics would be ${bytes} bytes; maxFrameBytes is ${context.config.maxFrameBytes}: send fewer topics per request`);
  }
}

// Error messages are for people and the codes say what happened: they go when they do not fit.
function withinFrame(context: HandlerContext, results: TopicResult[]): TopicResult[] {
  if (topicResultsFrameBytesMax(results) <= context.config.maxFrameBytes) return results;
  return results.map((result) => ({ ...result, errorMessage: null }));
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
