import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A WebSocket client written by hand over a plain TCP socket, for tests that must do what no
 * well-behaved client does: stop halfway through a frame, never read, vanish mid-request, or
 * look at the HTTP status of a refused upgrade.
 *
 * Client frames (RFC 6455 section 5.2), always masked:
 *
 *   byte 0       FIN (0x80) | opcode (0x1 text, 0x2 binary, 0x0 continuation, 0x8 close)
 *   byte 1       MASK (0x80) | payload length 0..125, or 126 (u16 follows), or 127 (u64 follows)
 *   then         the extended length, the 4-byte masking key, the payload XOR the key
 */
export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8 } as const;

/** The upgrade answer of the broker: its status line's code and the socket (open if 101). */
export interface UpgradeResult {
  readonly status: number;
  readonly socket: Socket;
}

/** Sends the HTTP upgrade for `GET /ws` and reads (bounded) the status line of the answer. */
export function upgrade(port: number, timeoutMs = 5_000): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no upgrade answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > 16 * 1024) fail(new Error('upgrade answer head longer than 16 KiB'));
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      // Whatever follows the head (a close frame, say) is not needed by these tests.
      resolve({ status, socket });
    };
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.write(upgradeRequest(port));
  });
}

/** The bytes of an HTTP upgrade request for `/ws`. */
export function upgradeRequest(port: number): string {
  return [
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '', '',
  ].join('\r\n');
}

/** One masked client frame carrying `payload`. */
export function encodeClientFrame(payload: Uint8Array, opcode: number = Opcode.binary, fin = true): Buffer {
  const lengthBytes = payload.length < 126 ? 0 : payload.length <= 0xffff ? 2 : 8;
  const frame = Buffer.alloc(2 + lengthBytes + 4 + payload.length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | payload.length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const maskAt = 2 + lengthBytes;
  const mask = randomBytes(4);
  mask.copy(frame, maskAt);
  for (let i = 0; i < payload.length; i++) frame[maskAt + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** Writes `bytes` and resolves once the kernel has them (bounded by the socket's own life). */
export function writeAll(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}
