import { connect as connectTcp, type NatsConnection } from 'nats';
import { connect as connectWebSocket } from 'nats.ws';
import WebSocket from 'ws';
import type { NatsConnector } from './nats-workloads.js';

const CONNECT_TIMEOUT_MS = 10_000;
// By default the client captures a stack (`new Error()`) for every request, i.e. every
// js.publish, so a timeout can say where it came from; that alone took about half the client's
// CPU in a 30,000-publish profile. `noAsyncTraces` is the client's documented switch for it.
const CLIENT_OPTIONS = { reconnect: false, timeout: CONNECT_TIMEOUT_MS, noAsyncTraces: true } as const;

/** Connections with `nats` (TCP) to any of `servers` ("host:port"); no reconnects, a bench run fails instead. */
export function tcpConnector(servers: readonly string[]): NatsConnector {
  return () => connectTcp({ ...CLIENT_OPTIONS, servers: [...servers] });
}

/** Connections with `nats.ws` to one WebSocket listener. */
export function webSocketConnector(port: number): NatsConnector {
  installWebSocketGlobal();
  // nats.ws bundles its own copy of the nats.deno client: its NatsConnection is declared apart
  // from `nats`'s but is the same API, so the workloads (typed against `nats`) take it as is.
  return async (): Promise<NatsConnection> => connectWebSocket({ ...CLIENT_OPTIONS, servers: `ws://127.0.0.1:${port}` });
}

// nats.ws is written for browsers and opens `new WebSocket(url)` from the global scope; Node 20
// has no global WebSocket (it came unflagged in Node 22), so the `ws` package stands in for it,
// which is also what Sluice's own Node client uses.
function installWebSocketGlobal(): void {
  const scope = globalThis as { WebSocket?: unknown };
  if (scope.WebSocket === undefined) scope.WebSocket = WebSocket;
}
