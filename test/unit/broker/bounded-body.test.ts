import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJsonBody, readBoundedBody } from '../../../src/broker/http/bounded-body.js';
import { HttpError } from '../../../src/broker/http/http-error.js';
import { errorNameOf } from '../../helpers/errors.js';

const LIMIT_BYTES = 1000;

let server: Server | null = null;
afterEach(async () => {
  const running = server;
  server = null;
  if (running === null) return;
  await new Promise<void>((resolve) => { running.close(() => resolve()); running.closeAllConnections(); });
});

/** A server that reads each body with the bound and answers with the outcome. */
async function boundedServer(): Promise<{ port: number; peakBufferedBytes: () => number }> {
  let peak = 0;
  server = createServer((request: IncomingMessage, response) => {
    readBoundedBody(request, LIMIT_BYTES).then((body) => {
      peak = Math.max(peak, body.length);
      response.end(`ok ${body.length}`);
    }, (error: unknown) => {
      response.writeHead(error instanceof HttpError ? error.status : 500, { connection: 'close' });
      response.end(error instanceof HttpError ? error.errorName : String(error));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, peakBufferedBytes: () => peak };
}

/** Sends `body` with a content-length or chunked; resolves with the status and text. */
function post(port: number, body: Buffer, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: chunked ? {} : { 'content-length': body.length } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      response.on('end', () => resolve({ status: response.statusCode!, text }));
    });
    request.on('error', reject);
    if (chunked) {
      // Two chunks, so the limit is crossed mid-stream rather than announced.
      request.write(body.subarray(0, body.length >> 1));
      request.end(body.subarray(body.length >> 1));
    } else {
      request.end(body);
    }
  });
}

describe('reading a bounded request body', () => {
  it('accepts a body of exactly the limit and refuses one byte more, declared or chunked', async () => {
    const { port, peakBufferedBytes } = await boundedServer();
    for (const chunked of [false, true]) {
      expect(await post(port, Buffer.alloc(LIMIT_BYTES, 0x20), chunked)).toEqual({ status: 200, text: `ok ${LIMIT_BYTES}` });
      expect(await post(port, Buffer.alloc(LIMIT_BYTES + 1, 0x20), chunked)).toEqual({ status: 413, text: 'BODY_TOO_LARGE' });
    }
    expect(peakBufferedBytes()).toBe(LIMIT_BYTES);
  });

  it('refuses a declared content-length above the limit before reading any of it', async () => {
    const { port } = await boundedServer();
    const outcome = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': 10 * 1024 * 1024 } }, (response) => {
        resolve(response.statusCode!);
        request.destroy();
      });
      request.on('error', (error) => { if (!request.destroyed) reject(error); });
      request.write('{'); // and never the rest
    });
    expect(outcome).toBe(413);
  });

  it('parses JSON and refuses malformed JSON or UTF-8 as INVALID_REQUEST', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
    expect(errorNameOf(() => parseJsonBody(Buffer.from('{"a":')))).toBe('INVALID_REQUEST');
    expect(errorNameOf(() => parseJsonBody(Buffer.from([0x22, 0xff, 0x22])))).toBe('INVALID_REQUEST');
  });
});
