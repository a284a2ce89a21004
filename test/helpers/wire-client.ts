import WebSocket from 'ws';
import {
  API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_ENCODERS, RESPONSE_DECODERS, decodeFrame, decodeSubscribePush, encodeFrame,
  type RequestByApiKey, type ResponseByApiKey, type SubscribePush,
} from '../../src/protocol/index.js';

/** A raw protocol connection for tests: typed requests, pushes collected, closes observed. */
export class WireClient {
  readonly pushes: Array<{ subscriptionId: number; push: SubscribePush }> = [];
  closeCode: number | null = null;
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, { apiKey: ApiKey; resolve: (body: Uint8Array) => void }>();
  private readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    this.closed = new Promise((resolve) => socket.on('close', (code) => {
      this.closeCode = code;
      resolve(code);
    }));
  }

  /** Connects to ws://127.0.0.1:port/ws (bounded wait). */
  static async connect(port: number, timeoutMs = 10_000): Promise<WireClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connect timed out')), timeoutMs);
      socket.once('open', () => { clearTimeout(timer); resolve(); });
      socket.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
    return new WireClient(socket);
  }

  /** Connects and completes the handshake. */
  static async ready(port: number): Promise<WireClient> {
    const client = await WireClient.connect(port);
    const response = await client.request(ApiKey.Handshake, { protocolVersion: PROTOCOL_VERSION, clientId: 'test' });
    if (response.errorCode !== 0) throw new Error(`handshake failed: ${response.errorCode}`);
    return client;
  }

  /** Sends a typed request and waits (bounded) for its typed response. */
  request<K extends ApiKey>(apiKey: K, request: RequestByApiKey[K], timeoutMs = 15_000): Promise<ResponseByApiKey[K]> {
    const correlationId = this.nextCorrelationId++;
    const encode = REQUEST_ENCODERS[apiKey] as (value: RequestByApiKey[K]) => Uint8Array;
    const body = encodeFrame({ kind: FrameKind.request, apiKey, apiVersion: API_VERSION, correlationId }, encode(request));
    return this.sendRaw(body, correlationId, apiKey, timeoutMs).then((bytes) => {
      const decode = RESPONSE_DECODERS[apiKey] as (value: Uint8Array) => ResponseByApiKey[K];
      return decode(bytes);
    });
  }

  /** Sends raw bytes; resolves with the response body of `correlationId` if one comes. */
  sendRaw(frame: Uint8Array, correlationId: number, apiKey: ApiKey, timeoutMs = 15_000): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to correlationId ${correlationId} in ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(correlationId, { apiKey, resolve: (bytes) => { clearTimeout(timer); resolve(bytes); } });
      this.socket.send(frame, { binary: true });
    });
  }

  /** Waits (bounded) for the connection to close; returns the close code. */
  async closedWith(timeoutMs = 10_000): Promise<number> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed')), timeoutMs).unref());
    return Promise.race([this.closed, timeout]);
  }

  close(): void {
    this.socket.close();
  }

  private receive(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes);
    if (frame.header.kind === FrameKind.push) {
      this.pushes.push({ subscriptionId: frame.header.correlationId, push: decodeSubscribePush(frame.body) });
      return;
    }
    const waiter = this.pending.get(frame.header.correlationId);
    this.pending.delete(frame.header.correlationId);
    waiter?.resolve(frame.body);
  }
}
