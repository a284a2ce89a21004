import { connect, type Client } from 'rabbitmq-stream-js-client';
import { Connection } from 'rabbitmq-stream-js-client/dist/connection.js';

/**
 * Connecting rabbitmq-stream-js-client 1.0.0 to the node under test, with the one adjustment
 * Debian's RabbitMQ 3.10.8 needs.
 *
 * The client's handshake always ends with ExchangeCommandVersions (command 0x001b), which
 * RabbitMQ added in 3.11; a 3.10 server answers an unknown command by closing the connection.
 * Without that exchange the client speaks version 1 of every command, which is all 3.10 has, so
 * for servers older than 3.11 the step is skipped. The method is private in the client's types
 * and cannot be reached through any option, hence a patch of its prototype (node_modules stays
 * untouched). The patch is process-wide, installed once, and passes through to the original for
 * a server of 3.11 or later, so it is harmless to any other user of the client in the process.
 */

/** Stream commands' version negotiation arrived in RabbitMQ 3.11. */
const COMMAND_VERSIONS_SINCE = { major: 3, minor: 11 } as const;
const CONNECT_ATTEMPTS_MAX = 20;
const CONNECT_RETRY_MS = 500;

type ExchangeCommandVersions = (this: Connection) => Promise<unknown>;
interface PatchableConnection {
  exchangeCommandVersions: ExchangeCommandVersions;
  skipsCommandVersionsBefore311?: true;
}

/** Opens a client to the stream port on 127.0.0.1 as guest (allowed by `loopback_users = none`). */
export async function connectStreamClient(port: number): Promise<Client> {
  skipCommandVersionsBefore311();
  return connect({ hostname: '127.0.0.1', port, username: 'guest', password: 'guest', vhost: '/' });
}

/** Connects with bounded retries: a node may accept on its stream port a moment before it serves. */
export async function connectStreamClientWhenReady(port: number): Promise<Client> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < CONNECT_ATTEMPTS_MAX; attempt++) {
    try {
      return await connectStreamClient(port);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
    }
  }
  throw new Error(`RabbitMQ stream port 127.0.0.1:${port} refused ${CONNECT_ATTEMPTS_MAX} connects: ${String(lastError)}`);
}

function skipCommandVersionsBefore311(): void {
  const prototype = Connection.prototype as unknown as PatchableConnection;
  if (prototype.skipsCommandVersionsBefore311 === true) return;
  const original = prototype.exchangeCommandVersions;
  if (typeof original !== 'function') throw new Error('rabbitmq-stream-js-client: Connection.exchangeCommandVersions not found; check the patch against this client version');
  prototype.exchangeCommandVersions = async function exchangeCommandVersionsFrom311(this: Connection): Promise<unknown> {
    if (versionBefore311(this.rabbitManagementVersion)) return undefined;
    return original.call(this);
  };
  prototype.skipsCommandVersionsBefore311 = true;
}

// The server's version comes from its peer properties, read earlier in the same handshake.
function versionBefore311(version: string | undefined): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (match === null) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major < COMMAND_VERSIONS_SINCE.major || (major === COMMAND_VERSIONS_SINCE.major && minor < COMMAND_VERSIONS_SINCE.minor);
}
