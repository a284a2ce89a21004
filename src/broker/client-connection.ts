import type { Logger } from 'pino';
import type { WebSocket, RawData } from 'ws';
import { SluiceError } from '../errors/sluice-error.js';
import { ApiKey, CloseCode, FRAME_HEADER_BYTES, FrameHeaderError, FrameKind, decodeFrameHeader, type FrameHeader } from '../protocol/index.js';
import { SendBudget, type ResponseBudget } from './response-budget.js';

/** 1001 is not a protocol close code: a broker that stops says "going away". */
const CLOSE_GOING_AWAY = 1001;

/** What a connection needs from the broker to answer requests. */
export interface RequestRouter {
  /**
   * Answers one request: the whole response frame, or null when none is due (Produce with
   * acks 0). A SluiceError becomes an error response; any other exception is a bug (1011). A
   * handler that reads much (Fetch) reserves from `budget` first; the connection releases it
   * once the response is queued.
   */
  handle(connection: ClientConnection, header: FrameHeader, body: Uint8Array, budget: ResponseBudget): Promise<Uint8Array | null>;
  /** Builds a response frame holding only an error (for requests that could not be handled). */
  errorResponse(header: FrameHeader, error: SluiceError): Uint8Array;
  /** Called once when the connection is gone, to release what it held (subscriptions). */
  closed(connection: ClientConnection): void;
}

/** Per-connection limits, from the broker config. */
export interface ConnectionLimits {
  readonly maxInFlightRequestsPerConnection: number;
  /**
   * Bytes queued for sending above which the connection stops reading requests; also the most
   * that queued responses plus responses being read may hold at once.
   */
  readonly sendQueueBytesMax: number;
  /** Bytes of requests being handled above which the connection stops reading more. */
  readonly inFlightRequestBytesMax: number;
}

/**
 * One client's WebSocket: frames in, responses and pushes out. It enforces the connection rules
 * of docs/protocol.md (handshake first, binary only, in-flight bound) and backpressure: when
 * more than `sendQueueBytesMax` bytes are queued towards a slow client, it stops reading that
 * client's requests until they drain, so a client that does not read cannot grow the broker's
 * memory; likewise above `inFlightRequestBytesMax` of requests still being handled. Requests
 * already read wait for the same budget (SendBudget) before they read from the log.
 */
export class ClientConnection {
  private handshaken = false;
  private inFlight = 0;
  private inFlightBytes = 0;
  private sendQueueBytes = 0;
  private paused = false;
  private open = true;
  private readonly sendBudget: SendBudget;

  constructor(
    readonly id: number,
    private readonly socket: WebSocket,
    private readonly router: RequestRouter,
    private readonly limits: ConnectionLimits,
    readonly logger: Logger,
  ) {
    this.sendBudget = new SendBudget(limits.sendQueueBytesMax, () => this.sendQueueBytes, () => this.updateFlowControl());
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', () => this.onClosed());
    socket.on('error', (error) => this.logger.debug({ err: error }, 'connection error'));
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Marks the handshake done; requests other than Handshake are refused before it. */
  markHandshaken(): void {
    this.handshaken = true;
  }

  /** Bytes handed to the socket and not yet written out. */
  get queuedBytes(): number {
    return this.sendQueueBytes;
  }

  /** Sends one frame, accounting for it until the socket has written it. */
  send(frame: Uint8Array): void {
    if (!this.open) return;
    this.sendQueueBytes += frame.length;
    this.updateFlowControl();
    this.socket.send(frame, { binary: true }, (error) => {
      this.sendQueueBytes -= frame.length;
      // A failed write means the peer is gone (its 'close' follows): resuming would feed the
      // requests it had queued, unread, to handlers whose answers nobody can receive.
      if (error === undefined || error === null) this.sendBudget.wake();
    });
  }

  // Reading stops while either queue is over its limit or a request waits for send budget, and
  // resumes once both queues are at most half full and nothing waits, so a client that floods
  // requests or never reads responses holds bounded memory (and is not closed for exceeding
  // maxInFlight with requests the broker itself is holding back).
  private updateFlowControl(): void {
    if (!this.open) return;
    const waiting = this.sendBudget.isWaited;
    const over = waiting || this.sendQueueBytes > this.limits.sendQueueBytesMax || this.inFlightBytes > this.limits.inFlightRequestBytesMax;
    const drained = !waiting && this.sendQueueBytes <= this.limits.sendQueueBytesMax / 2 && this.inFlightBytes <= this.limits.inFlightRequestBytesMax / 2;
    if (over && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (drained && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Closes because the broker is stopping. */
  closeGoingAway(): void {
    this.close(CLOSE_GOING_AWAY, 'broker shutting down');
  }

  /** Closes with a protocol close code and a short reason. */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.logger.debug({ code, reason }, 'closing connection');
    this.socket.close(code, reason.slice(0, 120));
    this.onClosed();
  }

  private receive(data: RawData, isBinary: boolean): void {
    // When the TCP connection drops, ws still parses the bytes it had buffered unread (readyState
    // CLOSING by then); requests among them have nobody to answer, so they are not handled.
    if (!this.open || this.socket.readyState !== this.socket.OPEN) return;
    if (!isBinary) return this.close(CloseCode.unsupportedData, 'text frames are not part of the protocol');
    const bytes = toBytes(data);
    let header: FrameHeader;
    try {
      header = decodeFrameHeader(bytes);
    } catch (error) {
      if (!(error instanceof FrameHeaderError)) throw error;
      return this.close(CloseCode.protocolError, error.message);
    }
    if (header.kind !== FrameKind.request) return this.close(CloseCode.protocolError, `frame kind ${header.kind} is not a request`);
    if (!this.handshaken && header.apiKey !== ApiKey.Handshake) return this.close(CloseCode.policyViolation, 'the first request must be Handshake');
    if (this.inFlight >= this.limits.maxInFlightRequestsPerConnection) {
      return this.close(CloseCode.policyViolation, `more than ${this.limits.maxInFlightRequestsPerConnection} requests in flight`);
    }
    this.inFlight += 1;
    this.inFlightBytes += bytes.length;
    this.updateFlowControl();
    const budget = this.sendBudget.forRequest();
    this.router.handle(this, header, bytes.subarray(FRAME_HEADER_BYTES), budget).then(
      (response) => this.respond(response, bytes.length, budget),
      (error: unknown) => this.fail(header, error, bytes.length, budget),
    );
  }

  // The response is queued before its reservation is released, so the budget never sees it twice
  // or not at all.
  private respond(response: Uint8Array | null, requestBytes: number, budget: ResponseBudget): void {
    if (response !== null) this.send(response);
    this.finished(requestBytes, budget);
  }

  private finished(requestBytes: number, budget: ResponseBudget): void {
    budget.releaseAll();
    this.inFlight -= 1;
    this.inFlightBytes -= requestBytes;
    this.updateFlowControl();
  }

  private fail(header: FrameHeader, error: unknown, requestBytes: number, budget: ResponseBudget): void {
    if (error instanceof SluiceError) {
      this.send(this.router.errorResponse(header, error));
      return this.finished(requestBytes, budget);
    }
    this.finished(requestBytes, budget);
    this.logger.error({ err: error, apiKey: header.apiKey }, 'request handler failed: closing the connection');
    this.close(CloseCode.internalError, 'internal error');
  }

  private onClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.sendBudget.close();
    this.router.closed(this);
  }
}

// ws hands us a Buffer for a single-fragment message, or a list for a fragmented one.
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
