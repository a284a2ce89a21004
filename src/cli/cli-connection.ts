import { SluiceError } from '../errors/sluice-error.js';
import { nodeWebSocket } from '../client/node.js';
import type { ConnectionOptions } from '../client/index.js';

/** Where the local broker listens by default (`npm start`). */
export const DEFAULT_BROKER_URL = 'ws://127.0.0.1:9092';

/** Connection options for a CLI command talking to `brokerUrl`. */
export function connectionOptions(brokerUrl: string, clientId: string): ConnectionOptions {
  return { url: brokerUrl, webSocketFactory: nodeWebSocket, clientId };
}

/** Bytes as UTF-8 text (lossy), or null. */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Writes one line to stdout. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Reports a failure on stderr (a broker's error by its name first) and sets a failing exit code. */
export function fail(command: string, error: unknown): void {
  const name = error instanceof SluiceError ? `${error.errorName}: ` : '';
  process.stderr.write(`sluice ${command}: ${name}${(error as Error).message}\n`);
  process.exitCode = 1;
}
