import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the HTTP face can see of the broker. */
export interface HttpContext {
  readonly brokerId: number;
}

/** Plain HTTP routes: `GET /healthz` for now; the JSON produce/read routes follow (issue 5). */
export function httpHandler(context: HttpContext): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method === 'GET' && path === '/healthz') return sendJson(response, 200, { status: 'ok', brokerId: context.brokerId });
    sendJson(response, 404, { error: 'NOT_FOUND', message: `no route for ${request.method ?? '?'} ${path}` });
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
