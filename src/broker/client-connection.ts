import type { Logger } from 'pino';
import type { WebSocket, RawData } from 'ws';
import { SluiceError } from '../errors/sluice-error.js';

/** The 8-byte header every frame starts with (docs/protocol.md, "Frame"). */
export interface FrameHeader {
  readonly kind: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

export const FRAME_HEADER_BYTES = 8;
export const FRAME_KIND_REQUEST = 1;
export const HANDSHAKE_API_KEY = 0;

/** WebSocket close codes of docs/protocol.md. */
export const CloseCode = {
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  unsupportedProtocolVersion: 4001,
} as const;

/** What a connection needs from the broker to answer requests. */
export interface RequestRouter {
  /**
   * Answers one request: the whole response frame, or null when none is due (Produce with
   * acks 0). A SluiceError becomes an error response; any other exception is a bug (1011).
   */
  handle(connection: ClientConnection, header: FrameHeader, body: Uint8Array): Promise<Uint8Array | null>;
  /** Builds a response frame holding only an error (for requests that could not be handled). */
  errorResponse(header: FrameHeader, error: SluiceError): Uint8Array;
  /** Called once when the connection is gone, to release what it held (subscriptions). */
  closed(connection: ClientConnection): void;
}

/** Per-connection limits, from the broker config. */
export interface ConnectionLimits {
  readonly maxInFlightRequestsPerConnection: number;
  /** Bytes queued for sending above which the connection stops reading requests. */
  readonly sendQueueBytesMax: number;
}

/**
 * One client's WebSocket: frames in, responses and pushes out. It enforces the connection rules
 * of docs/protocol.md (handshake first, binary only, in-flight bound) and backpressure: when
 * more than `sendQueueBytesMax` bytes are queued towards a slow client, it stops reading that
 * client's requests until they drain, so a client that does not read cannot grow the broker's
 * memory.
 */
export class ClientConnection {
  private handshaken = false;
  private inFlight = 0;
  private sendQueueBytes = 0;
  private paused = false;
  private open = true;

  constructor(
    readonly id: number,
    private readonly socket: WebSocket,
    private readonly router: RequestRouter,
    private readonly limits: ConnectionLimits,
    readonly logger: Logger,
  ) {
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
    if (this.sendQueueBytes > this.limits.sendQueueBytesMax && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.socket.send(frame, { binary: true }, () => {
      this.sendQueueBytes -= frame.length;
      if (this.paused && this.sendQueueBytes <= this.limits.sendQueueBytesMax / 2 && this.open) {
        this.paused = false;
        this.socket.resume();
      }
    });
  }

  /** Closes with a protocol close code and a short reason. */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.logger.debug({ code, reason }, 'closing connection');
    this.socket.close(code, reason.slice(0, 120));
    this.onClosed();
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (!this.open) return;
    if (!isBinary) return this.close(CloseCode.unsupportedData, 'text frames are not part of the protocol');
    const bytes = toBytes(data);
    if (bytes.length < FRAME_HEADER_BYTES) return this.close(CloseCode.protocolError, `frame of ${bytes.length} bytes is shorter than its header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header: FrameHeader = { kind: view.getUint8(0), apiKey: view.getUint8(1), apiVersion: view.getUint16(2), correlationId: view.getUint32(4) };
    if (header.kind !== FRAME_KIND_REQUEST) return this.close(CloseCode.protocolError, `frame kind ${header.kind} is not a request`);
    if (!this.handshaken && header.apiKey !== HANDSHAKE_API_KEY) return this.close(CloseCode.policyViolation, 'the first request must be Handshake');
    if (this.inFlight >= this.limits.maxInFlightRequestsPerConnection) {
      return this.close(CloseCode.policyViolation, `more than ${this.limits.maxInFlightRequestsPerConnection} requests in flight`);
    }
    this.inFlight += 1;
    this.router.handle(this, header, bytes.subarray(FRAME_HEADER_BYTES)).then(
      (response) => this.respond(response),
      (error: unknown) => this.fail(header, error),
    );
  }

  private respond(response: Uint8Array | null): void {
    this.inFlight -= 1;
    if (response !== null) this.send(response);
  }

  private fail(header: FrameHeader, error: unknown): void {
    this.inFlight -= 1;
    if (error instanceof SluiceError) return this.send(this.router.errorResponse(header, error));
    this.logger.error({ err: error, apiKey: header.apiKey }, 'request handler failed: closing the connection');
    this.close(CloseCode.internalError, 'internal error');
  }

  private onClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.router.closed(this);
  }
}

// ws hands us a Buffer for a single-fragment message, or a list for a fragmented one.
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
