import { describe, expect, it } from 'vitest';
import { Connection } from '../../../src/client/connection.js';
import { SluiceClientError } from '../../../src/client/errors.js';
import type { CloseEventLike, ErrorEventLike, MessageEventLike, WebSocketLike } from '../../../src/client/transport.js';
import { SluiceError } from '../../../src/errors/index.js';
import {
  API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_DECODERS, RESPONSE_ENCODERS, decodeFrame, encodeFrame, encodeSubscribePush,
  type ResponseByApiKey,
} from '../../../src/protocol/index.js';

/** A WebSocket stand-in: records what the client sends; the test plays the broker. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  private readonly listeners: Record<string, Array<(event: never) => void>> = {};

  send(data: Uint8Array): void {
    this.sent.push(data);
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

  /** The apiKey and correlationId of the i-th frame sent. */
  header(index: number): { apiKey: number; correlationId: number } {
    return decodeFrame(this.sent[index]!).header;
  }

  respond<K extends ApiKey>(index: number, apiKey: K, response: ResponseByApiKey[K]): void {
    const { correlationId } = this.header(index);
    const encode = RESPONSE_ENCODERS[apiKey] as (value: ResponseByApiKey[K]) => Uint8Array;
    this.emit('message', { data: encodeFrame({ kind: FrameKind.response, apiKey, apiVersion: API_VERSION, correlationId }, encode(response)) });
  }
}

const OK = { headerOnly: false, errorCode: 0, errorMessage: null } as const;
const EMPTY_METADATA = { ...OK, brokers: [], topics: [] };

async function connected(limits: { maxInFlight?: number; maxFrameBytes?: number; requestTimeoutMs?: number } = {}): Promise<{ connection: Connection; socket: FakeSocket }> {
  const socket = new FakeSocket();
  const connecting = Connection.connect({ url: 'ws://broker:9092', webSocketFactory: () => socket, requestTimeoutMs: limits.requestTimeoutMs ?? 5_000 });
  socket.open();
  await Promise.resolve();
  expect(socket.header(0).apiKey).toBe(ApiKey.Handshake);
  socket.respond(0, ApiKey.Handshake, {
    ...OK, protocolVersion: PROTOCOL_VERSION, brokerId: 7, maxFrameBytes: limits.maxFrameBytes ?? 1 << 20,
    maxInFlightRequestsPerConnection: limits.maxInFlight ?? 256, creditBytesMax: 1 << 24,
  });
  return { connection: await connecting, socket };
}

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('a client connection', () => {
  it('handshakes first and learns the broker limits', async () => {
    const { connection } = await connected({ maxInFlight: 3 });
    expect(connection.limits).toMatchObject({ brokerId: 7, maxInFlightRequests: 3, creditBytesMax: 1 << 24 });
    expect(connection.url).toBe('ws://broker:9092/ws');
  });

  it("never has more than the broker's maxInFlightRequestsPerConnection outstanding, and sends the rest in order", async () => {
    const { connection, socket } = await connected({ maxInFlight: 2 });
    const answers = Array.from({ length: 5 }, (_, index) => connection.request(ApiKey.Metadata, { allTopics: false, topics: [`t${index}`] }));
    expect(socket.sent).toHaveLength(3);
    socket.respond(2, ApiKey.Metadata, EMPTY_METADATA);
    expect(socket.sent).toHaveLength(4);
    for (let index = 1; index < socket.sent.length; index++) {
      expect(REQUEST_DECODERS[ApiKey.Metadata](decodeFrame(socket.sent[index]!).body).topics).toEqual([`t${index - 1}`]);
    }
    socket.respond(1, ApiKey.Metadata, EMPTY_METADATA);
    socket.respond(3, ApiKey.Metadata, EMPTY_METADATA);
    socket.respond(4, ApiKey.Metadata, EMPTY_METADATA);
    socket.respond(5, ApiKey.Metadata, EMPTY_METADATA);
    await expect(Promise.all(answers)).resolves.toHaveLength(5);
    expect(connection.inFlightCount).toBe(0);
  });

  it('fails a request after requestTimeoutMs with REQUEST_TIMED_OUT, but keeps its slot until the late answer', async () => {
    const { connection, socket } = await connected({ maxInFlight: 1, requestTimeoutMs: 20 });
    const first = connection.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    await expect(first).rejects.toSatisfy((error) => error instanceof SluiceError && error.errorName === 'REQUEST_TIMED_OUT');
    const second = connection.request(ApiKey.Metadata, { allTopics: true, topics: [] }, { timeoutMs: 5_000 });
    expect(socket.sent).toHaveLength(2);
    socket.respond(1, ApiKey.Metadata, EMPTY_METADATA);
    expect(socket.sent).toHaveLength(3);
    socket.respond(2, ApiKey.Metadata, EMPTY_METADATA);
    await expect(second).resolves.toMatchObject({ errorCode: 0 });
  });

  it('fails everything pending, sent or waiting, with a typed error when the connection closes', async () => {
    const { connection, socket } = await connected({ maxInFlight: 1 });
    const closes: SluiceClientError[] = [];
    connection.onClose((error) => closes.push(error));
    const pending = [0, 1, 2].map(() => connection.request(ApiKey.Metadata, { allTopics: true, topics: [] }));
    socket.close(1011, 'internal error');
    for (const request of pending) {
      await expect(request).rejects.toSatisfy((error) => error instanceof SluiceClientError && error.reason === 'connection-closed' && error.retriable);
    }
    expect(closes.map((error) => error.message)).toEqual(['connection to ws://broker:9092/ws closed (code 1011: internal error)']);
    await expect(connection.request(ApiKey.Metadata, { allTopics: true, topics: [] })).rejects.toBeInstanceOf(SluiceClientError);
  });

  it('routes a push that arrives in the same turn as its Subscribe response to the handler registered on response', async () => {
    const { connection, socket } = await connected();
    const pushes: number[] = [];
    const subscribed = connection.request(ApiKey.Subscribe, { topic: 't', partition: 0, offset: 0, creditBytes: 100 }, {
      onResponse: (response) => {
        if (!response.headerOnly) connection.setPushHandler(response.subscriptionId, (push) => pushes.push(push.nextOffset));
      },
    });
    socket.respond(1, ApiKey.Subscribe, { ...OK, subscriptionId: 42, highWatermark: 3 });
    socket.emit('message', { data: encodeFrame({ kind: FrameKind.push, apiKey: ApiKey.Subscribe, apiVersion: API_VERSION, correlationId: 42 },
      encodeSubscribePush({ errorCode: 0, highWatermark: 3, nextOffset: 3, records: new Uint8Array(0) })) });
    expect(pushes).toEqual([3]);
    await expect(subscribed).resolves.toMatchObject({ subscriptionId: 42 });
  });

  it('holds a slot for a request without response until a later request is answered, and gives such requests at most half the slots', async () => {
    const { connection, socket } = await connected({ maxInFlight: 4 });
    const produce = { acks: 0, timeoutMs: 1_000, topics: [] };
    await connection.sendWithoutResponse(ApiKey.Produce, produce);
    await connection.sendWithoutResponse(ApiKey.Produce, produce);
    const third = connection.sendWithoutResponse(ApiKey.Produce, produce);
    await flush();
    expect(socket.sent).toHaveLength(3);
    const answered = connection.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    expect(socket.sent).toHaveLength(3);
    expect(connection.inFlightCount).toBe(2);
    await flush();
    // The metadata request waits behind the third ack-less one (FIFO), which waits for a fence.
    expect(socket.sent).toHaveLength(3);
    connection.close();
    await expect(third).rejects.toBeInstanceOf(SluiceClientError);
    await expect(answered).rejects.toBeInstanceOf(SluiceClientError);
  });

  it('releases ack-less slots when a request sent after them is answered', async () => {
    const { connection, socket } = await connected({ maxInFlight: 4 });
    await connection.sendWithoutResponse(ApiKey.Produce, { acks: 0, timeoutMs: 1_000, topics: [] });
    const fence = connection.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    expect(connection.inFlightCount).toBe(2);
    socket.respond(2, ApiKey.Metadata, EMPTY_METADATA);
    await fence;
    expect(connection.inFlightCount).toBe(0);
  });

  it('refuses a frame larger than the broker takes with MESSAGE_TOO_LARGE, before sending it', async () => {
    const { connection, socket } = await connected({ maxFrameBytes: 1_024 });
    const big = { acks: 1, timeoutMs: 1_000, topics: [{ name: 't', partitions: [{ partition: 0, records: new Uint8Array(2_000) }] }] };
    await expect(connection.request(ApiKey.Produce, big)).rejects.toSatisfy((error) => error instanceof SluiceError && error.errorName === 'MESSAGE_TOO_LARGE');
    expect(socket.sent).toHaveLength(1);
  });

  it('closes with protocol-violation on a response nobody asked for', async () => {
    const { connection, socket } = await connected();
    const pending = connection.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    socket.emit('message', { data: encodeFrame({ kind: FrameKind.response, apiKey: ApiKey.Metadata, apiVersion: API_VERSION, correlationId: 999 }, new Uint8Array(0)) });
    await expect(pending).rejects.toSatisfy((error) => error instanceof SluiceClientError && error.reason === 'protocol-violation');
    expect(connection.isOpen).toBe(false);
  });

  it('fails to connect with connect-failed when the socket closes before opening, or does not open in time', async () => {
    const socket = new FakeSocket();
    const connecting = Connection.connect({ url: 'ws://nowhere:1', webSocketFactory: () => socket });
    socket.emit('error', { message: 'ECONNREFUSED' });
    await expect(connecting).rejects.toSatisfy((error) => error instanceof SluiceClientError && error.reason === 'connect-failed');
    await expect(Connection.connect({ url: 'ws://nowhere:1', webSocketFactory: () => new FakeSocket(), connectTimeoutMs: 10 }))
      .rejects.toSatisfy((error) => error instanceof SluiceClientError && error.reason === 'connect-failed');
  });

  it('checks its options once, by name and unit', async () => {
    await expect(Connection.connect({ url: 'ws://b:1', requestTimeoutMs: 0 })).rejects.toThrow('connection.requestTimeoutMs = 0: must be an integer in [1, 600000] ms');
    await expect(Connection.connect({ url: 'http://b:1' })).rejects.toSatisfy((error) => error instanceof SluiceClientError && error.reason === 'invalid-argument');
  });
});
