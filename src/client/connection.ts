import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import {
  API_VERSION, ApiKey, FrameHeaderError, FrameKind, PROTOCOL_VERSION, REQUEST_ENCODERS, RESPONSE_DECODERS,
  decodeFrame, decodeSubscribePush, encodeFrame,
  type HeaderOnlyResponse, type RequestByApiKey, type ResponseByApiKey, type ResponseHeader, type SubscribePush,
} from '../protocol/index.js';
import { CONNECTION_SETTINGS, resolveSettings, type SettingValues } from './client-config.js';
import { Fifo } from './fifo.js';
import { INVALID_REQUEST_CODE, SluiceClientError, errorFromCode } from './errors.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { checkWireString } from './record-input.js';
import { ReadyState, browserWebSocket, brokerUrl, messageBytes, type WebSocketFactory, type WebSocketLike } from './transport.js';

/**
 * One WebSocket to a broker, speaking docs/protocol.md: it opens, handshakes, and then carries
 * typed requests, matching each response to its request by correlationId.
 *
 * Limits it keeps: at most the broker's `maxInFlightRequestsPerConnection` requests outstanding
 * (more wait in a FIFO of at most `queuedRequestsMax`, so requests leave in the order they were
 * made); no frame larger than the broker's `maxFrameBytes`; every request answered or failed
 * within `requestTimeoutMs`. A request that timed out keeps its slot until its late response
 * comes, because the broker still counts it. When the connection closes, everything pending
 * fails at once with a typed error, and close listeners are told.
 *
 * Requests without a response (Produce with acks 0) are a special case: the broker counts them
 * as in flight until they are durable, which the client cannot observe. They hold a slot until
 * any request sent after them is answered, and may take at most half of the slots, so a later
 * acknowledged request works as a fence (see Producer, acks 0).
 */

export interface ConnectionOptions {
  /** `ws://host:port` (the path `/ws` is added) or a full WebSocket URL. */
  readonly url: string;
  /** How to open a WebSocket; default the global WebSocket (browsers, Node 22). Node 20: nodeWebSocket. */
  readonly webSocketFactory?: WebSocketFactory;
  /** Sent in the handshake; shows in the broker's logs. */
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly queuedRequestsMax?: number;
  readonly logger?: ClientLogger;
}

/** What the broker said about itself in the handshake. */
export interface BrokerLimits {
  readonly brokerId: number;
  readonly protocolVersion: number;
  readonly maxFrameBytes: number;
  readonly maxInFlightRequests: number;
  readonly creditBytesMax: number;
}

export interface RequestOptions<R> {
  /** Overrides the connection's requestTimeoutMs for this request. */
  readonly timeoutMs?: number;
  /**
   * Called with the response synchronously as it is decoded, before the promise settles and
   * before any later message is handled (Subscribe uses it to register for pushes in time).
   */
  readonly onResponse?: (response: R) => void;
}

type PushHandler = (push: SubscribePush) => void;
type CloseListener = (error: SluiceClientError) => void;

interface PendingRequest {
  readonly apiKey: ApiKey;
  /** Send order, set when the request is written (requests without response are released by it). */
  sequence: number;
  readonly resolve: (response: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly onResponse: ((response: unknown) => void) | undefined;
  timer: ReturnType<typeof setTimeout> | null;
  /** The caller was already answered (timed out); a late response only frees the slot. */
  settled: boolean;
}

interface WaitingRequest {
  readonly frame: Uint8Array;
  readonly correlationId: number;
  readonly pending: PendingRequest | null;
  /** For a request without a response: settles once the frame is written to the socket. */
  readonly written: { resolve: () => void; reject: (error: Error) => void } | null;
}

const CLOSE_NORMAL = 1000;
/** Before the handshake answers, only the handshake itself may be outstanding. */
const IN_FLIGHT_BEFORE_HANDSHAKE = 1;
const CORRELATION_ID_MAX = 0xffff_ffff;

export class Connection {
  readonly url: string;
  private readonly config: SettingValues<typeof CONNECTION_SETTINGS>;
  private readonly logger: ClientLogger;
  private limitsValue: BrokerLimits | null = null;
  private maxInFlight = IN_FLIGHT_BEFORE_HANDSHAKE;
  private inFlight = 0;
  private nextCorrelationId = 1;
  private nextSequence = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly waiting = new Fifo<WaitingRequest>();
  /** Send sequences of requests without a response that still hold a slot, oldest first. */
  private readonly ackless: number[] = [];
  private readonly pushHandlers = new Map<number, PushHandler>();
  private readonly closeListeners = new Set<CloseListener>();
  private closedError: SluiceClientError | null = null;

  private constructor(private readonly socket: WebSocketLike, url: string, config: SettingValues<typeof CONNECTION_SETTINGS>, logger: ClientLogger) {
    this.url = url;
    this.config = config;
    this.logger = logger;
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', (event) => this.closed(new SluiceClientError('connection-closed',
      `connection to ${url} closed (code ${event.code}${event.reason === '' ? '' : `: ${event.reason}`})`)));
    socket.addEventListener('error', (event) => this.closed(new SluiceClientError('connection-closed',
      `connection to ${url} failed${event.message === undefined ? '' : `: ${event.message}`}`)));
  }

  /** Opens a WebSocket to the broker and completes the handshake (bounded by connectTimeoutMs). */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    const config = resolveSettings(CONNECTION_SETTINGS, options, 'connection');
    const url = brokerUrl(options.url);
    const clientId = options.clientId ?? 'sluice-client';
    checkWireString(clientId, 'clientId');
    const logger = options.logger ?? silentLogger;
    const factory = options.webSocketFactory ?? browserWebSocket;
    let socket: WebSocketLike;
    try {
      socket = factory(url);
    } catch (error) {
      if (error instanceof SluiceClientError) throw error;
      throw new SluiceClientError('connect-failed', `cannot open a WebSocket to ${url}`, { cause: error });
    }
    const connection = new Connection(socket, url, config, logger);
    try {
      await connection.opened(config.connectTimeoutMs);
      await connection.handshake(clientId, config.connectTimeoutMs);
    } catch (error) {
      connection.close();
      if (error instanceof SluiceError && error.errorName !== 'REQUEST_TIMED_OUT') throw error;
      if (error instanceof SluiceClientError && error.reason === 'connect-failed') throw error;
      throw new SluiceClientError('connect-failed', `no handshake with ${url}: ${(error as Error).message}`, { cause: error });
    }
    return connection;
  }

  /** The broker's limits from the handshake. */
  get limits(): BrokerLimits {
    assert(this.limitsValue !== null, 'a connection is returned only after its handshake');
    return this.limitsValue;
  }

  get isOpen(): boolean {
    return this.closedError === null;
  }

  /** Requests sent and not yet answered (including timed-out ones the broker still counts). */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Sends a request and resolves with its decoded response (header-only on a request-level error). */
  request<K extends ApiKey>(apiKey: K, request: RequestByApiKey[K], options: RequestOptions<ResponseByApiKey[K]> = {}): Promise<ResponseByApiKey[K]> {
    return new Promise<ResponseByApiKey[K]>((resolve, reject) => {
      const frame = this.frameOf(apiKey, request);
      const correlationId = frame.correlationId;
      const pending: PendingRequest = {
        apiKey, sequence: 0, resolve: resolve as (response: unknown) => void, reject,
        onResponse: options.onResponse as ((response: unknown) => void) | undefined, timer: null, settled: false,
      };
      this.enqueue({ frame: frame.bytes, correlationId, pending, written: null }, options.timeoutMs ?? this.config.requestTimeoutMs);
    });
  }

  /**
   * Sends a request the broker does not answer (Produce with acks 0); resolves once it is
   * handed to the socket. It holds a slot until a request sent after it is answered.
   */
  sendWithoutResponse<K extends ApiKey>(apiKey: K, request: RequestByApiKey[K]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const frame = this.frameOf(apiKey, request);
      this.enqueue({ frame: frame.bytes, correlationId: frame.correlationId, pending: null, written: { resolve, reject } }, null);
    });
  }

  /** Routes the pushes of a subscription to `handler` (until removePushHandler or close). */
  setPushHandler(subscriptionId: number, handler: PushHandler): void {
    this.pushHandlers.set(subscriptionId, handler);
  }

  removePushHandler(subscriptionId: number): void {
    this.pushHandlers.delete(subscriptionId);
  }

  /** Calls `listener` once when the connection closes; returns a function that unregisters it. */
  onClose(listener: CloseListener): () => void {
    if (this.closedError !== null) {
      const error = this.closedError;
      queueMicrotask(() => listener(error));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes the connection; everything pending fails with client-closed. Idempotent. */
  close(): void {
    if (this.closedError !== null) return;
    this.closed(new SluiceClientError('client-closed', `connection to ${this.url} was closed by the client`));
    if (this.socket.readyState === ReadyState.open || this.socket.readyState === ReadyState.connecting) {
      this.socket.close(CLOSE_NORMAL, 'client closed');
    }
  }

  private opened(timeoutMs: number): Promise<void> {
    if (this.socket.readyState === ReadyState.open) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new SluiceClientError('connect-failed', `WebSocket to ${this.url} did not open within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      const unregister = this.onClose((error) => {
        clearTimeout(timer);
        reject(new SluiceClientError('connect-failed', error.message, { cause: error }));
      });
      this.socket.addEventListener('open', () => {
        clearTimeout(timer);
        unregister();
        resolve();
      });
    });
  }

  private async handshake(clientId: string, timeoutMs: number): Promise<void> {
    const response = await this.request(ApiKey.Handshake, { protocolVersion: PROTOCOL_VERSION, clientId }, { timeoutMs });
    if (response.headerOnly || response.errorCode !== 0) {
      this.close();
      throw errorFromCode(response.errorCode, response.errorMessage);
    }
    if (response.protocolVersion !== PROTOCOL_VERSION) {
      this.close();
      throw new SluiceError('UNSUPPORTED_VERSION', `broker speaks protocol ${response.protocolVersion}, this client ${PROTOCOL_VERSION}`);
    }
    this.limitsValue = Object.freeze({
      brokerId: response.brokerId, protocolVersion: response.protocolVersion, maxFrameBytes: response.maxFrameBytes,
      maxInFlightRequests: response.maxInFlightRequestsPerConnection, creditBytesMax: response.creditBytesMax,
    });
    this.maxInFlight = Math.max(1, response.maxInFlightRequestsPerConnection);
    this.logger.debug({ url: this.url, brokerId: response.brokerId }, 'connected');
    this.pump();
  }

  private frameOf<K extends ApiKey>(apiKey: K, request: RequestByApiKey[K]): { bytes: Uint8Array; correlationId: number } {
    if (this.closedError !== null) throw this.closedError;
    const encode = REQUEST_ENCODERS[apiKey] as (value: RequestByApiKey[K]) => Uint8Array;
    const correlationId = this.allocateCorrelationId();
    const bytes = encodeFrame({ kind: FrameKind.request, apiKey, apiVersion: API_VERSION, correlationId }, encode(request));
    const maxFrameBytes = this.limitsValue?.maxFrameBytes ?? Number.MAX_SAFE_INTEGER;
    if (bytes.length > maxFrameBytes) {
      throw new SluiceError('MESSAGE_TOO_LARGE', `request frame of ${bytes.length} bytes exceeds the broker's maxFrameBytes ${maxFrameBytes}`);
    }
    return { bytes, correlationId };
  }

  // Ids wrap at 2^32 and skip any still pending; at most pending.size + 1 candidates are tried.
  private allocateCorrelationId(): number {
    for (let tries = 0; tries <= this.pending.size; tries++) {
      const id = this.nextCorrelationId;
      this.nextCorrelationId = id === CORRELATION_ID_MAX ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
    assert(false, 'a free correlation id exists while fewer than 2^32 requests are pending');
  }

  private enqueue(request: WaitingRequest, timeoutMs: number | null): void {
    if (this.waiting.length >= this.config.queuedRequestsMax) {
      throw new SluiceClientError('buffer-full', `${this.waiting.length} requests already wait for a slot (queuedRequestsMax)`);
    }
    const pending = request.pending;
    if (pending !== null && timeoutMs !== null) {
      pending.timer = setTimeout(() => this.timedOut(request, timeoutMs), timeoutMs);
    }
    this.waiting.push(request);
    this.pump();
  }

  private timedOut(request: WaitingRequest, timeoutMs: number): void {
    const pending = request.pending!;
    pending.timer = null;
    pending.settled = true;
    // Still waiting for a slot: it never reached the broker, so it simply leaves the queue.
    this.waiting.remove(request);
    pending.reject(new SluiceError('REQUEST_TIMED_OUT', `no response within ${timeoutMs} ms (apiKey ${pending.apiKey})`));
  }

  // Sends waiting requests in order while slots are free.
  private pump(): void {
    while (this.closedError === null && this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
      const next = this.waiting.peek()!;
      if (next.pending === null && this.ackless.length >= Math.max(1, Math.floor(this.maxInFlight / 2))) return;
      this.waiting.shift();
      this.transmit(next);
    }
  }

  private transmit(request: WaitingRequest): void {
    const sequence = this.nextSequence++;
    this.inFlight += 1;
    if (request.pending !== null) {
      request.pending.sequence = sequence;
      this.pending.set(request.correlationId, request.pending);
    } else {
      this.ackless.push(sequence);
    }
    try {
      this.socket.send(request.frame);
    } catch (error) {
      this.closed(new SluiceClientError('connection-closed', `send to ${this.url} failed`, { cause: error }));
      return;
    }
    request.written?.resolve();
  }

  private receive(data: unknown): void {
    if (this.closedError !== null) return;
    const bytes = messageBytes(data);
    if (bytes === null) return this.violation('a message that is not binary');
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch (error) {
      if (!(error instanceof FrameHeaderError)) throw error;
      return this.violation(error.message);
    }
    const { header, body } = frame;
    if (header.kind === FrameKind.push) return this.receivePush(header.apiKey, header.correlationId, body);
    if (header.kind !== FrameKind.response) return this.violation(`frame kind ${header.kind} from a broker`);
    const pending = this.pending.get(header.correlationId);
    if (pending === undefined || pending.apiKey !== header.apiKey) {
      return this.violation(`response to correlationId ${header.correlationId} (apiKey ${header.apiKey}) that is not pending`);
    }
    this.pending.delete(header.correlationId);
    this.finish(pending.sequence);
    if (pending.timer !== null) clearTimeout(pending.timer);
    if (!pending.settled) this.settle(pending, body);
    this.pump();
  }

  private settle(pending: PendingRequest, body: Uint8Array): void {
    pending.settled = true;
    let response: unknown;
    try {
      response = (RESPONSE_DECODERS[pending.apiKey] as (bytes: Uint8Array) => unknown)(body);
    } catch (error) {
      pending.reject(new SluiceClientError('protocol-violation', `malformed response to apiKey ${pending.apiKey}`, { cause: error }));
      return;
    }
    pending.onResponse?.(response);
    pending.resolve(response);
  }

  // A response frees its own slot and those of every request without response sent before it.
  private finish(sequence: number): void {
    this.inFlight -= 1;
    while (this.ackless.length > 0 && this.ackless[0]! < sequence) {
      this.ackless.shift();
      this.inFlight -= 1;
    }
    assert(this.inFlight >= 0, 'in-flight count stays non-negative');
  }

  private receivePush(apiKey: number, subscriptionId: number, body: Uint8Array): void {
    if (apiKey !== ApiKey.Subscribe) return this.violation(`push with apiKey ${apiKey}`);
    let push: SubscribePush;
    try {
      push = decodeSubscribePush(body);
    } catch (error) {
      return this.violation(`malformed push: ${(error as Error).message}`);
    }
    // Pushes may still arrive for a subscription just ended; nobody wants them.
    this.pushHandlers.get(subscriptionId)?.(push);
  }

  private violation(detail: string): void {
    this.logger.error({ url: this.url, detail }, 'broker broke the protocol: closing the connection');
    this.closed(new SluiceClientError('protocol-violation', `broker at ${this.url} broke the protocol: ${detail}`));
    this.socket.close(CLOSE_NORMAL, 'protocol violation');
  }

  // Fails everything pending with `error`, once.
  private closed(error: SluiceClientError): void {
    if (this.closedError !== null) return;
    this.closedError = error;
    for (const pending of this.pending.values()) {
      if (pending.timer !== null) clearTimeout(pending.timer);
      if (!pending.settled) pending.reject(error);
    }
    this.pending.clear();
    for (const request of this.waiting.drain()) {
      if (request.pending !== null) {
        if (request.pending.timer !== null) clearTimeout(request.pending.timer);
        if (!request.pending.settled) request.pending.reject(error);
      }
      request.written?.reject(error);
    }
    this.ackless.length = 0;
    this.inFlight = 0;
    this.pushHandlers.clear();
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) listener(error);
  }
}

/** The full form of a response, or its error as a typed SluiceError. */
export function expectOk<R extends ResponseHeader>(response: R | HeaderOnlyResponse): Exclude<R, HeaderOnlyResponse> {
  if (response.errorCode !== 0) throw errorFromCode(response.errorCode, response.errorMessage);
  if ('headerOnly' in response && response.headerOnly) {
    throw new SluiceClientError('protocol-violation', 'a header-only response carried error code 0');
  }
  return response as Exclude<R, HeaderOnlyResponse>;
}

/** True when a broker answered a well-formed request with a header-only INVALID_REQUEST: it does not serve that API. */
export function isNotServed(response: ResponseHeader & { readonly headerOnly?: boolean }): boolean {
  return response.headerOnly === true && response.errorCode === INVALID_REQUEST_CODE;
}
