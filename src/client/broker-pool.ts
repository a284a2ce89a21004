import { Connection, type ConnectionOptions } from './connection.js';
import { SluiceClientError } from './errors.js';
import type { BrokerAddress } from './cluster-metadata.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { brokerUrl } from './transport.js';

/**
 * The client's connections: at most one per broker id, each opened when first needed and
 * dropped when it closes (the next use opens a new one). A connection opened to a bootstrap URL
 * learns its broker id from the handshake and is then that broker's connection, so a client of
 * a single broker keeps exactly one connection.
 *
 * `anyConnection()` (for Metadata, topic admin and InitProducerId) takes an open connection if
 * there is one; otherwise it tries the known brokers and then the bootstrap URLs, starting from
 * the one that last worked, each at most once per call: a dead first URL costs one failed
 * connect, not the call.
 */

/** Connection options without the URL: the pool chooses it. */
export type PoolConnectionOptions = Omit<ConnectionOptions, 'url'>;

export class BrokerPool {
  private readonly byId = new Map<number, Connection>();
  private readonly connectingById = new Map<number, Promise<Connection>>();
  private anyConnecting: Promise<Connection> | null = null;
  /** The URL that last gave a connection; tried first next time. */
  private preferredUrl: string | null = null;
  private closed = false;

  /**
   * @param bootstrapUrls normalised broker URLs (see bootstrapUrlsOf)
   * @param addressOf where a broker listens, from the cluster metadata
   */
  constructor(
    private readonly bootstrapUrls: readonly string[],
    private readonly options: PoolConnectionOptions,
    private readonly addressOf: (brokerId: number) => BrokerAddress | null,
    private readonly knownBrokers: () => readonly BrokerAddress[],
    private readonly logger: ClientLogger = options.logger ?? silentLogger,
  ) {}

  /** The open connection to `brokerId`, or null (none yet, or it closed). */
  openConnectionTo(brokerId: number): Connection | null {
    const connection = this.byId.get(brokerId);
    return connection !== undefined && connection.isOpen ? connection : null;
  }

  /** A connection to `brokerId`, opened if needed at the address the metadata gives (single-flight). */
  connectionTo(brokerId: number): Promise<Connection> {
    const open = this.openConnectionTo(brokerId);
    if (open !== null) return Promise.resolve(open);
    let connecting = this.connectingById.get(brokerId);
    if (connecting === undefined) {
      connecting = this.open(brokerId).finally(() => this.connectingById.delete(brokerId));
      this.connectingById.set(brokerId, connecting);
    }
    return connecting;
  }

  /** Some open connection: an existing one, else the first of known brokers and bootstrap URLs that connects. */
  anyConnection(): Promise<Connection> {
    if (this.closed) return Promise.reject(closedError());
    for (const connection of this.byId.values()) if (connection.isOpen) return Promise.resolve(connection);
    this.anyConnecting ??= this.openAny().finally(() => {
      this.anyConnecting = null;
    });
    return this.anyConnecting;
  }

  /** Closes every connection; later calls fail with client-closed. */
  close(): void {
    this.closed = true;
    for (const connection of this.byId.values()) connection.close();
    this.byId.clear();
    for (const connecting of this.connectingById.values()) void connecting.then((connection) => connection.close(), () => {});
    void this.anyConnecting?.then((connection) => connection.close(), () => {});
  }

  private async open(brokerId: number): Promise<Connection> {
    if (this.closed) throw closedError();
    const address = this.addressOf(brokerId);
    if (address === null) throw new SluiceClientError('connect-failed', `broker ${brokerId} is not in the cluster metadata`);
    const url = urlOfBroker(address, this.bootstrapUrls[0]!);
    const connection = await Connection.connect({ ...this.options, url, logger: this.logger });
    if (connection.limits.brokerId !== brokerId) {
      connection.close();
      throw new SluiceClientError('connect-failed', `${url} is broker ${connection.limits.brokerId}, not broker ${brokerId} (stale metadata)`);
    }
    return this.register(connection);
  }

  private async openAny(): Promise<Connection> {
    const candidates = candidateUrls(this.knownBrokers(), this.bootstrapUrls, this.preferredUrl);
    const failures: string[] = [];
    for (const url of candidates) {
      if (this.closed) throw closedError();
      try {
        const connection = await Connection.connect({ ...this.options, url, logger: this.logger });
        this.preferredUrl = url;
        return this.register(connection);
      } catch (error) {
        if (!(error instanceof SluiceClientError) || error.reason !== 'connect-failed') throw error;
        failures.push(error.message);
        this.logger.debug({ url, reason: error.message }, 'broker not reachable; trying the next');
      }
    }
    throw new SluiceClientError('connect-failed', `no broker reachable (${failures.join('; ')})`);
  }

  // The handshake names the broker; a second connection to a broker already connected is closed.
  private register(connection: Connection): Connection {
    if (this.closed) {
      connection.close();
      throw closedError();
    }
    const brokerId = connection.limits.brokerId;
    const existing = this.openConnectionTo(brokerId);
    if (existing !== null && existing !== connection) {
      connection.close();
      return existing;
    }
    this.byId.set(brokerId, connection);
    connection.onClose(() => {
      if (this.byId.get(brokerId) === connection) this.byId.delete(brokerId);
    });
    return connection;
  }
}

function closedError(): SluiceClientError {
  return new SluiceClientError('client-closed', 'the client is closed');
}

/**
 * The URLs `anyConnection` tries, in order: known brokers, then bootstrap URLs (each once),
 * rotated so that the one that last worked comes first.
 */
export function candidateUrls(known: readonly BrokerAddress[], bootstrapUrls: readonly string[], preferredUrl: string | null): string[] {
  const urls = [...new Set([...known.map((address) => urlOfBroker(address, bootstrapUrls[0]!)), ...bootstrapUrls])];
  const start = preferredUrl === null ? -1 : urls.indexOf(preferredUrl);
  return start <= 0 ? urls : [...urls.slice(start), ...urls.slice(0, start)];
}

/**
 * A broker's WebSocket URL from its Metadata address, with the scheme and path of `template` (a
 * bootstrap URL): brokers of one cluster are reached the same way.
 */
export function urlOfBroker(address: BrokerAddress, template: string): string {
  const url = new URL(template);
  url.hostname = address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host;
  url.port = String(address.port);
  return url.toString();
}

/**
 * The bootstrap URLs of client options: `brokers` (a list) and/or `url` (one, the older
 * option), normalised (`ws://host:port` gets `/ws`), without duplicates. At least one is needed.
 */
export function bootstrapUrlsOf(options: { readonly brokers?: readonly string[]; readonly url?: string }): string[] {
  if (!Array.isArray(options.brokers) && options.brokers !== undefined) {
    throw new SluiceClientError('invalid-argument', 'brokers must be an array of ws:// or wss:// URLs');
  }
  const given = [...(options.brokers ?? []), ...(options.url === undefined ? [] : [options.url])];
  if (given.length === 0) throw new SluiceClientError('invalid-argument', 'no broker URL: give brokers (a list of ws:// URLs) or url');
  return [...new Set(given.map((url) => brokerUrl(url)))];
}
