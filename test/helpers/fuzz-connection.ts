import WebSocket from 'ws';
import { API_VERSION, ApiKey, FrameKind, PROTOCOL_VERSION, REQUEST_ENCODERS, decodeFrameHeader, encodeFrame } from '../../src/protocol/index.js';

/** What became of one message sent to the broker. */
export type Outcome =
  /** The response frame (header included) carrying the awaited correlationId. */
  | { readonly kind: 'response'; readonly frame: Uint8Array }
  /** The connection closed first, with this code. */
  | { readonly kind: 'close'; readonly code: number }
  /** No response was due; the probe sent after the message was answered. */
  | { readonly kind: 'silent' }
  /** Neither within the time bound. */
  | { readonly kind: 'timeout' };

/**
 * One WebSocket to the broker for sending bad input: any bytes or text go out, and each send
 * waits (bounded) for the response to one correlationId or for the close. Frames the broker
 * sends that nobody waits for are kept (`strays`, `pushes`) for the caller to judge, and frames
 * that are not responses or pushes at all, or larger than `maxFrameBytes`, are `malformed`.
 */
export class FuzzConnection {
  closeCode: number | null = null;
  readonly strays: Uint8Array[] = [];
  readonly pushes: Uint8Array[] = [];
  readonly malformed: string[] = [];
  private readonly waiters = new Map<number, (frame: Uint8Array) => void>();
  private readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket, private readonly maxFrameBytes: number) {
    socket.on('message', (data: Buffer, isBinary: boolean) => this.receive(new Uint8Array(data), isBinary));
    // An 'error' is followed by 'close'; the close code is what the tests judge.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', (code: number) => {
      this.closeCode = code;
      resolve(code);
    }));
  }

  /** Opens ws://127.0.0.1:port/ws (bounded), without a handshake. */
  static async open(port: number, maxFrameBytes: number, timeoutMs = 5_000): Promise<FuzzConnection> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => { clearTimeout(timer); resolve(); });
      socket.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
    return new FuzzConnection(socket, maxFrameBytes);
  }

  /** Opens and completes the Handshake (correlationId 0). */
  static async ready(port: number, maxFrameBytes: number): Promise<FuzzConnection> {
    const connection = await FuzzConnection.open(port, maxFrameBytes);
    const body = REQUEST_ENCODERS[ApiKey.Handshake]({ protocolVersion: PROTOCOL_VERSION, clientId: 'fuzz' });
    const outcome = await connection.exchange(encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Handshake, apiVersion: API_VERSION, correlationId: 0 }, body), 0, null, 5_000);
    if (outcome.kind !== 'response' || new DataView(outcome.frame.buffer).getInt16(8) !== 0) {
      connection.terminate();
      throw new Error(`handshake failed: ${JSON.stringify(outcome)}`);
    }
    return connection;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends `payload` and waits for the response to `correlationId`; when none is due
   * (`correlationId` null), sends `probe` after it and waits for the probe's response instead.
   * A close, or `timeoutMs` passing, ends the wait.
   */
  exchange(payload: Uint8Array | string, correlationId: number | null, probe: { frame: Uint8Array; correlationId: number } | null, timeoutMs: number): Promise<Outcome> {
    if (!this.isOpen) return Promise.resolve({ kind: 'close', code: this.closeCode ?? 0 });
    const awaited = correlationId ?? probe?.correlationId;
    if (awaited === undefined) throw new Error('a message with no response due needs a probe');
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (outcome: Outcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(awaited);
        resolve(outcome);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      this.waiters.set(awaited, (frame) => finish(correlationId === null ? { kind: 'silent' } : { kind: 'response', frame }));
      void this.closed.then((code) => finish({ kind: 'close', code }));
      this.socket.send(payload, { binary: typeof payload !== 'string' });
      if (correlationId === null) this.socket.send(probe!.frame, { binary: true });
    });
  }

  /** Waits (bounded) for the close; null if it does not come. */
  async closedWithin(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.close();
  }

  terminate(): void {
    this.socket.terminate();
  }

  private receive(bytes: Uint8Array, isBinary: boolean): void {
    if (!isBinary) return void this.malformed.push('a text message from the broker');
    if (bytes.length > this.maxFrameBytes) this.malformed.push(`a frame of ${bytes.length} bytes, above maxFrameBytes ${this.maxFrameBytes}`);
    let header;
    try {
      header = decodeFrameHeader(bytes);
    } catch (error) {
      return void this.malformed.push(`an undecodable frame header: ${(error as Error).message}`);
    }
    if (header.kind === FrameKind.push) return void this.pushes.push(bytes);
    if (header.kind !== FrameKind.response) return void this.malformed.push(`a frame of kind ${header.kind} from the broker`);
    const waiter = this.waiters.get(header.correlationId);
    if (waiter === undefined) this.strays.push(bytes);
    else waiter(bytes);
  }
}
