import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';

/**
 * What the two processes of websocket-loopback share: the limits and messages between them, a
 * sender that keeps a connection full for a while with bounded memory, and a receiver that
 * counts binary frames until a text "end" message.
 */

/** What the server process tells its parent once it listens. */
export interface PeerReady {
  readonly kind: 'listening';
  readonly port: number;
  readonly websocketMasking: 'native' | 'javascript';
}

/** Largest frame a case may use; both ends refuse bigger ones before buffering them (maxPayload). */
export const FRAME_BYTES_MAX = 2 * 1024 * 1024;
/** How long past its expected end a case may run before it is abandoned. */
export const CASE_GRACE_MS = 30_000;

/** The text message that ends a case, after the last binary frame. */
export const END_MESSAGE = 'end';

/** What a receiver counted in its measured window (after its warm-up). */
export interface ReceivedCount {
  readonly frames: number;
  readonly bytes: number;
  readonly elapsedMs: number;
}

// Sent but not yet written to the socket, at most: enough to keep loopback busy, small enough
// that memory stays flat whatever the frame size. Waiting on send callbacks is the public form of
// waiting for 'drain'; one callback per MARK_BYTES keeps that bookkeeping off the per-frame path.
const UNWRITTEN_BYTES_MAX = 4 * 1024 * 1024;
const MARK_BYTES = 64 * 1024;
const MARKS_OUTSTANDING_MIN = 2;
const SEND_OPTIONS = { binary: true } as const;
const STALL_CHECK_MS = 1_000;

/**
 * Sends `frame` as binary messages for `secondsMax` seconds, as fast as the socket drains; returns
 * the count. Fails if no write completes for CASE_GRACE_MS (the other end stopped reading).
 */
export async function sendFramesFor(socket: WebSocket, frame: Buffer, secondsMax: number): Promise<number> {
  const framesPerMark = Math.max(1, Math.floor(MARK_BYTES / frame.length));
  const marksOutstandingMax = Math.max(MARKS_OUTSTANDING_MIN, Math.floor(UNWRITTEN_BYTES_MAX / (framesPerMark * frame.length)));
  let marksOutstanding = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let lastWrittenMs = performance.now();
  const fail = (error: Error): void => {
    failure ??= error;
    wake?.();
    wake = null;
  };
  const written = (error?: Error | null): void => {
    marksOutstanding -= 1;
    lastWrittenMs = performance.now();
    if (error !== undefined && error !== null) fail(error);
    wake?.();
    wake = null;
  };
  const stallCheck = setInterval(() => {
    if (performance.now() - lastWrittenMs > CASE_GRACE_MS) fail(new Error(`no write completed for ${CASE_GRACE_MS} ms`));
  }, STALL_CHECK_MS);
  const waitWhile = async (condition: () => boolean): Promise<void> => {
    while (condition() && failure === null) await new Promise<void>((resolve) => { wake = resolve; });
  };
  try {
    const deadlineMs = performance.now() + secondsMax * 1000;
    let sent = 0;
    while (failure === null && performance.now() < deadlineMs) {
      for (let index = 1; index < framesPerMark; index++) socket.send(frame, SEND_OPTIONS);
      marksOutstanding += 1;
      socket.send(frame, SEND_OPTIONS, written);
      sent += framesPerMark;
      await waitWhile(() => marksOutstanding >= marksOutstandingMax);
    }
    await waitWhile(() => marksOutstanding > 0);
    if (failure !== null) throw failure;
    return sent;
  } finally {
    clearInterval(stallCheck);
  }
}

/**
 * Counts binary frames of `frameBytes` until the end message. Frames in the first `warmupMs`
 * after the first one are not counted (JIT, TCP window growth); the window runs from the first
 * counted frame's predecessor to the last frame. Rejects on close, a wrong size, or `timeoutMs`.
 */
export function countFramesUntilEnd(socket: WebSocket, frameBytes: number, warmupMs: number, timeoutMs: number): Promise<ReceivedCount> {
  return new Promise((resolve, reject) => {
    let firstMs: number | null = null;
    let windowStartMs: number | null = null;
    let lastMs = 0;
    let frames = 0;
    const finish = (outcome: (() => void)): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      outcome();
    };
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      const nowMs = performance.now();
      if (!isBinary) {
        if (frames === 0 || windowStartMs === null) return finish(() => reject(new Error(`no frames after the ${warmupMs} ms warm-up: case too short`)));
        return finish(() => resolve({ frames, bytes: frames * frameBytes, elapsedMs: lastMs - windowStartMs! }));
      }
      const length = Buffer.isBuffer(data) ? data.length : data instanceof ArrayBuffer ? data.byteLength : data.reduce((sum, part) => sum + part.length, 0);
      if (length !== frameBytes) return finish(() => reject(new Error(`frame of ${length} bytes, expected ${frameBytes}`)));
      firstMs ??= nowMs;
      if (windowStartMs !== null) frames += 1;
      else if (nowMs - firstMs >= warmupMs) windowStartMs = nowMs;
      lastMs = nowMs;
    };
    const onClose = (): void => finish(() => reject(new Error('connection closed before the end message')));
    const timer = setTimeout(() => finish(() => reject(new Error(`no end message within ${timeoutMs} ms`))), timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}
