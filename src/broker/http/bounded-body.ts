import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors/sluice-error.js';
import { HttpError } from './http-error.js';

/**
 * Reads a request body of at most `bodyBytesMax` bytes. A declared `content-length` above the
 * limit is refused before a byte is read; a chunked body is counted as it arrives and refused as
 * soon as it passes the limit, so the broker never holds more than `bodyBytesMax` (plus one
 * chunk) of it. Refusals are BODY_TOO_LARGE; the caller answers 413, then drops the rest of the
 * body (discardUnreadBody).
 */
export function readBoundedBody(request: IncomingMessage, bodyBytesMax: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > bodyBytesMax) {
    return Promise.reject(tooLarge(`content-length ${declared}`, bodyBytesMax));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const finish = (error: Error | null): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (error === null) resolve(Buffer.concat(chunks, receivedBytes));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes > bodyBytesMax) {
        chunks.length = 0;
        request.pause();
        finish(tooLarge(`more than ${receivedBytes - chunk.length} bytes`, bodyBytesMax));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onError = (error: Error): void => finish(error);
    const onClose = (): void => finish(new SluiceError('INVALID_REQUEST', 'the connection closed before the request body ended'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/**
 * Longest the broker keeps reading (and dropping) the unread rest of a refused request's body.
 * Long enough for a client that reads its answer only after sending its body (as fetch does with
 * a streamed body) to see it; bounded so that a client cannot hold the connection with a body
 * the broker has already refused.
 */
export const REFUSED_BODY_DISCARD_MS = 2000;

/**
 * After an answer to a request whose body was not read (a 413, or an error found before the body
 * was needed), the rest of that body may still be arriving. Closing at once would reset the
 * connection under a client that is still writing, which then often never reads the answer (it
 * sees EPIPE or ECONNRESET). So what follows is read and dropped, never kept, until the body ends
 * (the connection then stays usable) or `REFUSED_BODY_DISCARD_MS` passes (it is then closed).
 * Call it once the answer is written: Node's own draining of an unread body starts then.
 */
export function discardUnreadBody(request: IncomingMessage): void {
  if (request.complete) return;
  const stop = (): void => {
    clearTimeout(timer);
    request.off('end', stop);
  };
  const timer = setTimeout(() => {
    stop();
    request.socket.destroy();
  }, REFUSED_BODY_DISCARD_MS);
  request.on('end', stop);
  // Flowing with no 'data' listener: chunks are dropped as they arrive.
  request.resume();
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a body as JSON; malformed UTF-8 or JSON is INVALID_REQUEST. */
export function parseJsonBody(body: Uint8Array): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new SluiceError('INVALID_REQUEST', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SluiceError('INVALID_REQUEST', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(what: string, bodyBytesMax: number): HttpError {
  return new HttpError('BODY_TOO_LARGE', `request body of ${what} exceeds httpBodyBytesMax ${bodyBytesMax}`);
}
