import { SluiceClientError } from './errors.js';

/**
 * The transport seam: the client speaks to a broker through the subset of the WHATWG WebSocket
 * API below, which browsers (`globalThis.WebSocket`) and the `ws` package (src/client/node.ts)
 * both implement. Nothing in the client imports a Node module; a Node program injects
 * `nodeWebSocket` from src/client/node.ts, a browser needs nothing.
 */

/** The WebSocket readyState values the client reads. */
export const ReadyState = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

export interface MessageEventLike {
  /** ArrayBuffer in a browser (binaryType 'arraybuffer'); a Buffer (a Uint8Array) from `ws`. */
  readonly data: unknown;
}

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

export interface ErrorEventLike {
  readonly message?: string;
}

/** The part of a WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  /** Bytes passed to send() and not yet written to the network. */
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  addEventListener(type: 'close', listener: (event: CloseEventLike) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEventLike) => void): void;
}

/** Opens a WebSocket to `url` (binary messages must arrive as ArrayBuffer or Uint8Array). */
export type WebSocketFactory = (url: string) => WebSocketLike;

/**
 * The browser's own WebSocket (also Node 22's global one), with binaryType 'arraybuffer' so that
 * binary messages arrive as bytes, not Blobs. Permessage-deflate is the browser's choice; the
 * broker turns it off.
 */
export const browserWebSocket: WebSocketFactory = (url) => {
  const WebSocketClass = (globalThis as { WebSocket?: new (url: string) => WebSocket }).WebSocket;
  if (WebSocketClass === undefined) {
    throw new SluiceClientError('connect-failed',
      'globalThis.WebSocket is not defined: in Node 20, pass webSocketFactory: nodeWebSocket (from the client\'s node entry)');
  }
  const socket = new WebSocketClass(url);
  socket.binaryType = 'arraybuffer';
  return socket as unknown as WebSocketLike;
};

/**
 * The broker's WebSocket URL from what a user gives: `ws://host:port` gets the path `/ws`
 * (docs/protocol.md); a URL with a path keeps it. Only ws: and wss: are accepted.
 */
export function brokerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new SluiceClientError('invalid-argument', `broker URL ${JSON.stringify(url)} is not a URL`, { cause: error });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new SluiceClientError('invalid-argument', `broker URL ${JSON.stringify(url)} must start with ws:// or wss://`);
  }
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = '/ws';
  return parsed.toString();
}

/**
 * The bytes of a binary message event as a plain Uint8Array view (no copy; a Node Buffer is
 * re-viewed, so records handed to applications are the same type in Node and browsers), or
 * null for anything else (text, Blob).
 */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
