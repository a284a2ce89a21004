import { decodeBody, type ByteReader } from '../byte-reader.js';
import { encodeBody, type ByteWriter } from '../byte-writer.js';
import { WIRE_BYTES } from '../wire-types.js';
import { decodeResponse, encodeResponse, type FullResponse, type OrHeaderOnly } from './response-header.js';

/**
 * 1 Metadata (docs/protocol.md), apiVersion 2:
 *
 *   request  = allTopics bool | topics array<string>        (topics ignored when allTopics = 1)
 *   response = responseHeader | brokers array<broker> | controllerId i32 | topics array<topicMetadata>
 *   broker        = brokerId i32 | host string | port u16
 *   topicMetadata = errorCode i16 | name string | partitions array<partitionMetadata>
 *   partitionMetadata = errorCode i16 | partition i32 | leaderId i32 | leaderEpoch i32
 *                       | replicas array<i32> | isr array<i32>
 *
 * An unknown topic is listed with UNKNOWN_TOPIC_OR_PARTITION and no partitions. `controllerId` is
 * the broker id of the cluster's controller, -1 when there is none.
 */

/** The `controllerId` of a cluster without a controller (and what an absent field encodes as). */
export const NO_CONTROLLER_ID = -1;

export interface MetadataRequest {
  readonly allTopics: boolean;
  /** Decoded as sent, even when allTopics makes the broker ignore it. */
  readonly topics: readonly string[];
}

export interface BrokerMetadata {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
}

export interface PartitionMetadata {
  readonly errorCode: number;
  readonly partition: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface TopicMetadata {
  readonly errorCode: number;
  readonly name: string;
  readonly partitions: readonly PartitionMetadata[];
}

export interface MetadataResponse extends FullResponse {
  readonly brokers: readonly BrokerMetadata[];
  /** The controller's broker id, NO_CONTROLLER_ID (-1) for none. Always present when decoded. */
  readonly controllerId?: number;
  readonly topics: readonly TopicMetadata[];
}

/** Smallest encodings, in bytes, that bound an array count before it is allocated. */
const BROKER_BYTES_MIN = WIRE_BYTES.i32 + WIRE_BYTES.stringMin + WIRE_BYTES.u16;
const TOPIC_METADATA_BYTES_MIN = WIRE_BYTES.i16 + WIRE_BYTES.stringMin + WIRE_BYTES.arrayMin;
const PARTITION_METADATA_BYTES_MIN = WIRE_BYTES.i16 + 3 * WIRE_BYTES.i32 + 2 * WIRE_BYTES.arrayMin;

export function encodeMetadataRequest(request: MetadataRequest): Uint8Array {
  return encodeBody((writer) => {
    writer.bool(request.allTopics);
    writer.array(request.topics, (w, topic) => w.string(topic));
  });
}

export function decodeMetadataRequest(body: Uint8Array): MetadataRequest {
  return decodeBody(body, 'Metadata request', (reader) => ({
    allTopics: reader.bool('allTopics'),
    topics: reader.array('topics', WIRE_BYTES.stringMin, (r) => r.string('')),
  }));
}

export function encodeMetadataResponse(response: OrHeaderOnly<MetadataResponse>): Uint8Array {
  return encodeResponse<MetadataResponse>(response, (writer, full) => {
    writer.array(full.brokers, writeBroker);
    writer.i32(full.controllerId ?? NO_CONTROLLER_ID);
    writer.array(full.topics, writeTopicMetadata);
  });
}

export function decodeMetadataResponse(body: Uint8Array): OrHeaderOnly<MetadataResponse> {
  return decodeResponse(body, 'Metadata response', (reader, header) => ({
    headerOnly: false,
    ...header,
    brokers: reader.array('brokers', BROKER_BYTES_MIN, readBroker),
    controllerId: reader.i32('controllerId'),
    topics: reader.array('topics', TOPIC_METADATA_BYTES_MIN, readTopicMetadata),
  }));
}

function writeBroker(writer: ByteWriter, broker: BrokerMetadata): void {
  writer.i32(broker.brokerId);
  writer.string(broker.host);
  writer.u16(broker.port);
}

function readBroker(reader: ByteReader): BrokerMetadata {
  return { brokerId: reader.i32('brokerId'), host: reader.string('host'), port: reader.u16('port') };
}

function writeTopicMetadata(writer: ByteWriter, topic: TopicMetadata): void {
  writer.i16(topic.errorCode);
  writer.string(topic.name);
  writer.array(topic.partitions, writePartitionMetadata);
}

function readTopicMetadata(reader: ByteReader): TopicMetadata {
  return {
    errorCode: reader.i16('errorCode'),
    name: reader.string('name'),
    partitions: reader.array('partitions', PARTITION_METADATA_BYTES_MIN, readPartitionMetadata),
  };
}

function writePartitionMetadata(writer: ByteWriter, partition: PartitionMetadata): void {
  writer.i16(partition.errorCode);
  writer.i32(partition.partition);
  writer.i32(partition.leaderId);
  writer.i32(partition.leaderEpoch);
  writer.array(partition.replicas, (w, brokerId) => w.i32(brokerId));
  writer.array(partition.isr, (w, brokerId) => w.i32(brokerId));
}

function readPartitionMetadata(reader: ByteReader): PartitionMetadata {
  return {
    errorCode: reader.i16('errorCode'),
    partition: reader.i32('partition'),
    leaderId: reader.i32('leaderId'),
    leaderEpoch: reader.i32('leaderEpoch'),
    replicas: reader.array('replicas', WIRE_BYTES.i32, (r) => r.i32('')),
    isr: reader.array('isr', WIRE_BYTES.i32, (r) => r.i32('')),
  };
}
