/**
 * The Sluice client library: Producer, Consumer and Admin over the WebSocket protocol of
 * docs/protocol.md. Browser-safe: nothing here (or in what it imports) needs a Node module.
 * In a browser the global WebSocket is used; in Node 20, pass `webSocketFactory: nodeWebSocket`
 * from src/client/node.ts, the one module that imports `ws`.
 *
 * A browser bundle must also map the package `fast-crc32c` (used by src/record) to
 * src/client/crc32c-browser.ts; test/integration/client-browser-bundle.test.ts shows how.
 */
export { Admin, type BrokerDescription, type NewTopicSpec, type PartitionDescription, type TopicDescription, type TopicOutcome } from './admin.js';
export { CLUSTER_SETTINGS, CONNECTION_SETTINGS, CONSUMER_SETTINGS, PRODUCER_SETTINGS, type NumericSetting } from './client-config.js';
export type { ClientOptions } from './cluster.js';
export { Connection, expectOk, isNotServed, type BrokerLimits, type ConnectionOptions, type RequestOptions } from './connection.js';
export {
  Consumer, type ConsumerBatch, type ConsumerOptions, type ConsumerRecord, type FallbackPosition, type PartitionAssignment, type PartitionProgress,
  type StartPosition,
} from './consumer.js';
export { SluiceClientError, errorFromCode, isRetriable, isSluiceClientError, type ClientErrorReason } from './errors.js';
export { silentLogger, type ClientLogger } from './logger.js';
export { murmur2, partitionForKey, toPositive } from './murmur2.js';
export type { CommittedOffset, ListedOffset, OffsetQuery, OffsetSpec, OffsetToCommit, TopicPartition } from './offsets.js';
export { DefaultPartitioner } from './partitioner.js';
export { ACKLESS_REQUESTS_PER_FENCE, Producer, type Acks, type ProducerOptions, type ProducerRecord, type RecordMetadata } from './producer.js';
export type { BytesInput, HeadersInput } from './record-input.js';
export { browserWebSocket, type WebSocketFactory, type WebSocketLike } from './transport.js';
