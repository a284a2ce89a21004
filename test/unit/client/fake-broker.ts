import type { CloseEventLike, ErrorEventLike, MessageEventLike, WebSocketFactory, WebSocketLike } from '../../../src/client/transport.js';
import { ERROR_CODES, type ErrorName } from '../../../src/errors/index.js';
import {
  API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_DECODERS, RESPONSE_ENCODERS, decodeFrame, encodeFrame, encodeSubscribePush,
  type RequestByApiKey, type ResponseByApiKey, type SubscribePush,
} from '../../../src/protocol/index.js';
import { decodeBatchHeader, type RecordBatchHeader } from '../../../src/record/index.js';

/**
 * An in-process stand-in for a broker, for unit tests of the client: it speaks the frame
 * protocol through a fake WebSocket, answers each request with a handler the test may replace,
 * and records what the client sent. No network, no timers of its own besides a microtask per
 * response.
 */

export const OK = { headerOnly: false, errorCode: 0, errorMessage: null } as const;

export function headerOnly(errorName: ErrorName, errorMessage: string | null = null): { headerOnly: true; errorCode: number; errorMessage: string | null } {
  return { headerOnly: true, errorCode: ERROR_CODES[errorName].code, errorMessage };
}

/** A response, none (null: acks 0), or a promise of one, which holds the answer back until it settles. */
type Handler<K extends ApiKey> = (request: RequestByApiKey[K], broker: FakeBroker) => ResponseByApiKey[K] | null | Promise<ResponseByApiKey[K]>;
type Handlers = { [K in ApiKey]?: Handler<K> };

export interface ProducedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly header: RecordBatchHeader;
  readonly bytes: Uint8Array;
}

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  bufferedAmount = 0;
  private readonly listeners: Record<string, Array<(event: never) => void>> = {};

  constructor(private readonly broker: FakeBroker) {}

  send(data: Uint8Array): void {
    this.broker.receive(this, data.slice());
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', { code, reason });
  }

  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  addEventListener(type: 'close', listener: (event: CloseEventLike) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEventLike) => void): void;
  addEventListener(type: string, listener: (event: never) => void): void {
    (this.listeners[type] ??= []).push(listener);
  }

  emit(type: string, event: unknown): void {
    for (const listener of this.listeners[type] ?? []) (listener as (value: unknown) => void)(event);
  }

  open(): void {
    this.readyState = 1;
    this.emit('open', {});
  }
}

export class FakeBroker {
  readonly sockets: FakeSocket[] = [];
  readonly requests: Array<{ apiKey: ApiKey; request: unknown }> = [];
  readonly produced: ProducedBatch[] = [];
  /** Partition count per topic, for Metadata. */
  readonly topics = new Map<string, number>();
  private readonly logEndOffsets = new Map<string, number>();
  private nextProducerId = 1000;

  /** `brokerId` is what the handshake reports (a FakeCluster gives each broker its own). */
  constructor(readonly brokerId = 0) {}

  readonly handlers: Handlers = {
    [ApiKey.Handshake]: () => ({ ...OK, protocolVersion: PROTOCOL_VERSION, brokerId: this.brokerId, maxFrameBytes: 8 << 20, maxInFlightRequestsPerConnection: 16, creditBytesMax: 16 << 20 }),
    [ApiKey.Metadata]: (request) => ({
      ...OK, brokers: [{ brokerId: 0, host: 'fake', port: 1 }],
      topics: request.topics.map((name) => {
        const count = this.topics.get(name);
        if (count === undefined) return { errorCode: ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code, name, partitions: [] };
        return { errorCode: 0, name, partitions: Array.from({ length: count }, (_, partition) => ({ errorCode: 0, partition, leaderId: 0, leaderEpoch: 0, replicas: [0], isr: [0] })) };
      }),
    }),
    [ApiKey.InitProducerId]: () => ({ ...OK, producerId: this.nextProducerId++, producerEpoch: 0 }),
    [ApiKey.Produce]: (request) => this.append(request),
    [ApiKey.ListOffsets]: (request) => ({
      ...OK,
      partitions: request.partitions.map(({ topic, partition, spec, timestamp }) => {
        const offset = spec === 0 ? 0 : this.logEndOffsets.get(`${topic}/${partition}`) ?? 0;
        return { topic, partition, errorCode: 0, found: spec !== 2, offset: spec === 2 ? -1 : offset, timestamp };
      }),
    }),
    [ApiKey.Subscribe]: () => ({ ...OK, subscriptionId: this.nextSubscriptionId++, highWatermark: 0 }),
  };
  private nextSubscriptionId = 1;

  /** Opens a fake WebSocket to this broker (it opens on the next microtask). */
  readonly factory: WebSocketFactory = () => {
    const socket = new FakeSocket(this);
    this.sockets.push(socket);
    queueMicrotask(() => socket.open());
    return socket;
  };

  requestsOf<K extends ApiKey>(apiKey: K): Array<RequestByApiKey[K]> {
    return this.requests.filter((entry) => entry.apiKey === apiKey).map((entry) => entry.request as RequestByApiKey[K]);
  }

  /** Appends every batch of a Produce request, giving offsets per partition; answers OK. */
  append(request: RequestByApiKey[typeof ApiKey.Produce]): ResponseByApiKey[typeof ApiKey.Produce] | null {
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partition, records }) => {
        const key = `${topic.name}/${partition}`;
        const baseOffset = this.logEndOffsets.get(key) ?? 0;
        let next = baseOffset;
        for (let position = 0; position < records.length;) {
          const header = decodeBatchHeader(records, position);
          const size = header.batchLength + 12;
          this.produced.push({ topic: topic.name, partition, header, bytes: records.slice(position, position + size) });
          next += header.recordCount;
          position += size;
        }
        this.logEndOffsets.set(key, next);
        return { partition, errorCode: 0, baseOffset, logStartOffset: 0 };
      }),
    }));
    return request.acks === 0 ? null : { ...OK, topics };
  }

  /** Sends a push of subscription `subscriptionId` on every open socket. */
  push(subscriptionId: number, push: SubscribePush): void {
    const frame = encodeFrame({ kind: FrameKind.push, apiKey: ApiKey.Subscribe, apiVersion: API_VERSION, correlationId: subscriptionId }, encodeSubscribePush(push));
    for (const socket of this.sockets) if (socket.readyState === 1) socket.emit('message', { data: frame });
  }

  receive(socket: FakeSocket, bytes: Uint8Array): void {
    const { header, body } = decodeFrame(bytes);
    const apiKey = header.apiKey as ApiKey;
    const request = (REQUEST_DECODERS[apiKey] as (value: Uint8Array) => unknown)(body);
    this.requests.push({ apiKey, request });
    const handler = this.handlers[apiKey] as ((value: unknown, broker: FakeBroker) => unknown) | undefined;
    const response = handler === undefined ? headerOnly('INVALID_REQUEST', 'not served by the fake broker') : handler(request, this);
    if (response === null) return;
    if (response instanceof Promise) {
      void response.then((held: unknown) => this.respond(socket, apiKey, header.correlationId, held));
      return;
    }
    queueMicrotask(() => this.respond(socket, apiKey, header.correlationId, response));
  }

  private respond(socket: FakeSocket, apiKey: ApiKey, correlationId: number, response: unknown): void {
    const encode = RESPONSE_ENCODERS[apiKey] as (value: unknown) => Uint8Array;
    const frame = encodeFrame({ kind: FrameKind.response, apiKey, apiVersion: API_VERSION, correlationId }, encode(response));
    if (socket.readyState === 1) socket.emit('message', { data: frame });
  }
}
