import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { WebSocketLimit } from './limit-figures.js';
import {
  CASE_GRACE_MS, END_MESSAGE, FRAME_BYTES_MAX, countFramesUntilEnd, sendFramesFor, type PeerReady, type ReceivedCount,
} from './websocket-frames.js';

/** How long each case runs and how much of its start is not counted. */
export interface WebSocketBounds {
  readonly secondsPerCase: number;
  readonly warmupMs: number;
}

/** The loopback measurements and whether each side had ws's native masking. */
export interface WebSocketLoopback {
  readonly limits: WebSocketLimit[];
  readonly clientMasking: 'native' | 'javascript';
  readonly serverMasking: 'native' | 'javascript';
}

const PEER_PATH = fileURLToPath(new URL('./websocket-peer.js', import.meta.url));
const PEER_READY_MS_MAX = 10_000;
const PEER_STOP_GRACE_MS = 5_000;
const CONNECT_MS_MAX = 5_000;

/**
 * One-way `ws` throughput over loopback between this process (the client, as Sluice's client)
 * and a server in a child process (as Sluice's broker), so each end has its own event loop and
 * the OS may run them on different cores. For each frame size, client→server (frames masked by
 * the client, unmasked by the server: bufferutil's work) then server→client (unmasked). The
 * receiver measures; the child is stopped by PID at the end.
 */
export async function measureWebSocketLoopback(
  frameSizesBytes: readonly number[], bounds: WebSocketBounds, clientMasking: 'native' | 'javascript', log: (line: string) => void,
): Promise<WebSocketLoopback> {
  for (const size of frameSizesBytes) if (size > FRAME_BYTES_MAX) throw new Error(`frame of ${size} bytes exceeds the peer's ${FRAME_BYTES_MAX}`);
  const { child, ready } = await startPeer();
  try {
    const limits: WebSocketLimit[] = [];
    for (const frameBytes of frameSizesBytes) {
      log(`websocket: ${frameBytes} B frames client→server, ${bounds.secondsPerCase} s ...`);
      limits.push(limitOf(frameBytes, 'client-to-server', await clientToServer(ready.port, frameBytes, bounds)));
      log(`websocket: ${frameBytes} B frames server→client, ${bounds.secondsPerCase} s ...`);
      limits.push(limitOf(frameBytes, 'server-to-client', await serverToClient(ready.port, frameBytes, bounds)));
    }
    return { limits, clientMasking, serverMasking: ready.websocketMasking };
  } finally {
    await stopPeer(child);
  }
}

function limitOf(frameBytes: number, direction: WebSocketLimit['direction'], count: ReceivedCount): WebSocketLimit {
  const seconds = count.elapsedMs / 1000;
  return { frameBytes, direction, messagesPerSecond: count.frames / seconds, megabytesPerSecond: count.bytes / seconds / 1e6 };
}

async function clientToServer(port: number, frameBytes: number, bounds: WebSocketBounds): Promise<ReceivedCount> {
  const socket = await connect(`ws://127.0.0.1:${port}/sink?frameBytes=${frameBytes}&warmupMs=${bounds.warmupMs}`);
  try {
    const reply = nextTextMessage(socket, bounds.secondsPerCase * 1000 + CASE_GRACE_MS);
    // Awaited below; until then a rejection (the send failed, the socket closes) is not unhandled.
    reply.catch(() => undefined);
    await sendFramesFor(socket, Buffer.alloc(frameBytes, 0x5a), bounds.secondsPerCase);
    socket.send(END_MESSAGE);
    return JSON.parse(await reply) as ReceivedCount;
  } finally {
    socket.close();
  }
}

async function serverToClient(port: number, frameBytes: number, bounds: WebSocketBounds): Promise<ReceivedCount> {
  const socket = await connect(`ws://127.0.0.1:${port}/source?frameBytes=${frameBytes}&seconds=${bounds.secondsPerCase}`);
  try {
    return await countFramesUntilEnd(socket, frameBytes, bounds.warmupMs, bounds.secondsPerCase * 1000 + CASE_GRACE_MS);
  } finally {
    socket.close();
  }
}

// As src/client/node.ts opens its sockets: no permessage-deflate, Buffers for binary messages.
async function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: FRAME_BYTES_MAX, handshakeTimeout: CONNECT_MS_MAX });
  socket.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

function nextTextMessage(socket: WebSocket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      clearTimeout(timer);
      resolve(data.toString());
    });
    socket.once('close', (code, reason) => {
      clearTimeout(timer);
      reject(new Error(`server closed the connection (${code} ${reason.toString()}) before replying`));
    });
  });
}

async function startPeer(): Promise<{ child: ChildProcess; ready: PeerReady }> {
  const child = fork(PEER_PATH, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<PeerReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`websocket peer not listening within ${PEER_READY_MS_MAX} ms`)), PEER_READY_MS_MAX);
      child.once('message', (message) => {
        clearTimeout(timer);
        if (isPeerReady(message)) resolve(message);
        else reject(new Error(`websocket peer sent ${JSON.stringify(message)} instead of its port`));
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`websocket peer exited with ${code} before listening`)); });
    });
    return { child, ready };
  } catch (error) {
    await stopPeer(child);
    throw error;
  }
}

function isPeerReady(message: unknown): message is PeerReady {
  if (typeof message !== 'object' || message === null) return false;
  const { kind, port, websocketMasking } = message as { [key: string]: unknown };
  return kind === 'listening' && typeof port === 'number' && (websocketMasking === 'native' || websocketMasking === 'javascript');
}

/** SIGTERM by PID, then SIGKILL if it has not exited within the grace. */
async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }, PEER_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
