import WebSocket from 'ws';
import type { WebSocketFactory, WebSocketLike } from './transport.js';

/**
 * The Node transport: a WebSocket from the `ws` package. This is the only module of the client
 * that imports a Node-only package; the browser build never reaches it (src/client/index.ts does
 * not import it). Use: `new Producer({ url, webSocketFactory: nodeWebSocket })`.
 */

/** Largest message `ws` will accept from a broker: the broker's own `maxFrameBytes` maximum. */
export const NODE_MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/**
 * Opens a `ws` WebSocket with permessage-deflate off (the broker refuses it anyway, and
 * compressing record batches twice costs CPU for nothing). Binary messages arrive as Buffers,
 * which are Uint8Arrays, so nothing is copied.
 */
export const nodeWebSocket: WebSocketFactory = (url) => {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: NODE_MAX_PAYLOAD_BYTES });
  socket.binaryType = 'nodebuffer';
  // `ws` implements the WHATWG event API (addEventListener, event.data/code/reason/message);
  // its declared types are wider than WebSocketLike's, not different.
  return socket as unknown as WebSocketLike;
};
