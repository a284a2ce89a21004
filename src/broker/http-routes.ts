import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../errors/sluice-error.js';
import { discardUnreadBody } from './http/bounded-body.js';
import { HttpError, describeError } from './http/http-error.js';
import { RecordRoutes } from './http/record-routes.js';
import { ReplicaRoutes } from './http/replica-routes.js';
import type { HttpContext, Reply, Route, RouteCall } from './http/route-types.js';
import { TopicRoutes } from './http/topic-routes.js';

export type { HttpContext } from './http/route-types.js';

// The label of requests that matched no route (metrics label values must stay a bounded set).
const UNMATCHED_ROUTE = 'unmatched';

/**
 * The broker's plain HTTP face (docs/http.md): JSON routes to produce, read and manage topics,
 * `/healthz` and `/metrics`. Every answer is JSON except the metrics text; every error is
 * `{ error, message }` with a status from its error name. Request bodies are read within
 * `httpBodyBytesMax` before they are parsed.
 */
export function httpHandler(context: HttpContext): (request: IncomingMessage, response: ServerResponse) => void {
  const routes = buildRoutes(context);
  return (request, response) => {
    serve(context, routes, request, response).catch((error: unknown) => {
      // serve() answers every error itself; reaching here means writing the answer failed.
      context.logger.error({ err: error }, 'could not answer an HTTP request');
      response.destroy();
    });
  };
}

function buildRoutes(context: HttpContext): Route[] {
  const topics = new TopicRoutes(context);
  const records = new RecordRoutes(context);
  const replicas = new ReplicaRoutes(context);
  return [
    { pattern: '/healthz', methods: { GET: async () => ({ status: 200, json: { status: 'ok', brokerId: context.config.brokerId } }) } },
    { pattern: '/metrics', methods: { GET: async () => metricsReply(context) } },
    { pattern: '/v1/topics', methods: { GET: topics.list, POST: topics.create } },
    { pattern: '/v1/topics/:topic', methods: { GET: topics.describe, DELETE: topics.delete } },
    { pattern: '/v1/topics/:topic/records', methods: { POST: records.produce } },
    { pattern: '/v1/topics/:topic/partitions/:partition/records', methods: { GET: records.read } },
    { pattern: '/v1/replicas', methods: { GET: replicas.list } },
  ];
}

async function serve(context: HttpContext, routes: readonly Route[], request: IncomingMessage, response: ServerResponse): Promise<void> {
  let pattern = UNMATCHED_ROUTE;
  let reply: Reply;
  try {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const { route, params } = matchRoute(routes, url.pathname);
    pattern = route.pattern;
    const method = request.method ?? '';
    const handler = route.methods[method];
    if (handler === undefined) throw new HttpError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${route.pattern}`, Object.keys(route.methods));
    const call: RouteCall = { request, params, query: url.searchParams };
    reply = await handler(call);
  } catch (error) {
    reply = errorReply(context, request, error);
  }
  context.metrics.httpRequest(pattern, reply.status);
  send(response, reply);
  // A refused request's body may be unread (too large, or refused before it was read): once the
  // answer is written, drop what still arrives of it, within a time bound.
  if (!request.complete) response.once('finish', () => discardUnreadBody(request));
}

// Walks the (few, fixed) routes; a path has at most as many segments as the longest pattern.
function matchRoute(routes: readonly Route[], pathname: string): { route: Route; params: Record<string, string> } {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  for (const route of routes) {
    const parts = route.pattern.split('/').filter((part) => part !== '');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = parts.every((part, index) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = decodeSegment(segments[index]!);
        return true;
      }
      return part === segments[index];
    });
    if (matches) return { route, params };
  }
  throw new HttpError('NOT_FOUND', `no route for ${pathname}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SluiceError('INVALID_REQUEST', `the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

async function metricsReply(context: HttpContext): Promise<Reply> {
  const { contentType, body } = await context.metrics.text();
  return { status: 200, text: body, contentType };
}

// Typed errors become their status; anything else is a bug: logged, and 500.
function errorReply(context: HttpContext, request: IncomingMessage, error: unknown): Reply {
  const described = describeError(error);
  if (described === null) {
    context.logger.error({ err: error, method: request.method, url: request.url }, 'HTTP request failed with an untyped error');
    return { status: 500, json: { error: 'UNKNOWN_SERVER_ERROR', message: 'an unexpected error occurred on the broker; see its log' } };
  }
  const headers: Record<string, string> = {};
  if (error instanceof HttpError && error.allow.length > 0) headers.allow = error.allow.join(', ');
  return { status: described.status, json: described.body, headers };
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.headersSent || response.destroyed) return;
  const isJson = 'json' in reply;
  const text = isJson ? JSON.stringify(reply.json) : reply.text;
  response.writeHead(reply.status, {
    ...(isJson ? reply.headers : {}),
    'content-type': isJson ? 'application/json; charset=utf-8' : reply.contentType,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
