import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../../config/broker-config.js';
import { SluiceError } from '../../errors/sluice-error.js';
import type { BrokerMetrics } from '../metrics.js';
import type { PartitionManager } from '../partition-manager.js';

/** What the HTTP face can see of the broker. */
export interface HttpContext {
  readonly config: BrokerConfig;
  readonly partitions: PartitionManager;
  readonly metrics: BrokerMetrics;
  /** Wall clock, for the timestamps of records produced over HTTP. */
  readonly nowMs: () => number;
  readonly logger: Logger;
}

/** One matched request: its path parameters (already URI-decoded) and query. */
export interface RouteCall {
  readonly request: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** What a route answers: JSON, or text (the metrics exposition). */
export type Reply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType: string };

export type RouteHandler = (call: RouteCall) => Promise<Reply>;

/** A route: its pattern (`:name` segments are parameters; also the metrics label) and methods. */
export interface Route {
  readonly pattern: string;
  readonly methods: Readonly<Record<string, RouteHandler>>;
}

/** An optional integer query parameter; anything but a safe integer is INVALID_REQUEST. */
export function integerParam(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  return parseInteger(raw, name);
}

/** A decimal integer in the safe range, or INVALID_REQUEST naming `what`. */
export function parseInteger(raw: string, what: string): number {
  const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new SluiceError('INVALID_REQUEST', `${what} ${JSON.stringify(raw)} is not an integer`);
  return value;
}
