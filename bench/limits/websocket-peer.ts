#!/usr/bin/env node
/**
 * The server end of websocket-loopback, in its own process as Sluice's broker is: a `ws` server
 * on 127.0.0.1, port 0, configured as the broker's (no permessage-deflate, a bounded maxPayload).
 * It tells its parent the port over IPC, then serves one case per connection:
 *   /sink?frameBytes=N&warmupMs=W     counts the client's frames; replies with a ReceivedCount as JSON
 *   /source?frameBytes=N&seconds=S    sends frames for S seconds, then the end message
 * It exits when its parent disconnects or signals it.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { reportNativeAddons } from '../../src/broker/native-addons.js';
import {
  CASE_GRACE_MS, END_MESSAGE, FRAME_BYTES_MAX, countFramesUntilEnd, sendFramesFor, type PeerReady,
} from './websocket-frames.js';

const SOURCE_SECONDS_MAX = 60;

function serve(socket: WebSocket, request: IncomingMessage): void {
  const url = new URL(request.url ?? '/', 'ws://127.0.0.1');
  const frameBytes = Number(url.searchParams.get('frameBytes'));
  if (!Number.isInteger(frameBytes) || frameBytes < 1 || frameBytes > FRAME_BYTES_MAX) return socket.close(1008, 'bad frameBytes');
  if (url.pathname === '/sink') {
    const warmupMs = Number(url.searchParams.get('warmupMs') ?? 0);
    countFramesUntilEnd(socket, frameBytes, warmupMs, SOURCE_SECONDS_MAX * 1000 + CASE_GRACE_MS).then(
      (count) => socket.send(JSON.stringify(count)),
      (error: unknown) => socket.close(1011, String(error).slice(0, 100)),
    );
  } else if (url.pathname === '/source') {
    const seconds = Number(url.searchParams.get('seconds'));
    if (!(seconds > 0 && seconds <= SOURCE_SECONDS_MAX)) return socket.close(1008, 'bad seconds');
    sendFramesFor(socket, Buffer.alloc(frameBytes, 0x5a), seconds).then(
      () => socket.send(END_MESSAGE),
      (error: unknown) => socket.close(1011, String(error).slice(0, 100)),
    );
  } else {
    socket.close(1008, 'unknown case');
  }
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: FRAME_BYTES_MAX });
server.on('connection', serve);
server.on('listening', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected listen address ${String(address)}`);
  const ready: PeerReady = { kind: 'listening', port: address.port, websocketMasking: reportNativeAddons().websocketMasking };
  process.send?.(ready);
});
process.on('disconnect', () => process.exit(0));
