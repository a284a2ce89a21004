import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { ClientConnection, type ConnectionLimits, type RequestRouter } from './client-connection.js';

/** Everything the server needs: where to listen, its limits, and who answers. */
export interface BrokerServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly maxFrameBytes: number;
  readonly connectionLimits: ConnectionLimits;
  readonly router: RequestRouter;
  /** Answers plain HTTP requests (everything but the /ws upgrade). */
  readonly httpHandler: (request: IncomingMessage, response: ServerResponse) => void;
  readonly logger: Logger;
}

/**
 * The broker's one HTTP server: `GET /ws` upgrades to the binary protocol (ws, no
 * permessage-deflate, `maxPayload` = maxFrameBytes so an oversized frame is refused before it is
 * buffered), everything else goes to the HTTP handler.
 */
export class BrokerServer {
  private readonly connections = new Set<ClientConnection>();
  // Upgrades accepted but not yet open count against maxConnections too.
  private upgrading = 0;
  private nextConnectionId = 1;

  private constructor(private readonly options: BrokerServerOptions, private readonly http: Server, private readonly websockets: WebSocketServer) {}

  /** Starts listening; resolves once the port is bound. */
  static async listen(options: BrokerServerOptions): Promise<BrokerServer> {
    const http = createServer(options.httpHandler);
    const websockets = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    const server = new BrokerServer(options, http, websockets);
    http.on('upgrade', (request, socket, head) => server.upgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, closes every connection with 1001, and stops the HTTP server. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.closeGoingAway();
    this.websockets.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/ws') return refuse(socket, 404, 'Not Found');
    if (this.connections.size + this.upgrading >= this.options.maxConnections) return refuse(socket, 503, 'Service Unavailable');
    this.upgrading += 1;
    let upgraded = false;
    socket.once('close', () => { if (!upgraded) this.upgrading -= 1; });
    this.websockets.handleUpgrade(request, socket, head, (websocket) => {
      upgraded = true;
      this.upgrading -= 1;
      const id = this.nextConnectionId++;
      const logger = this.options.logger.child({ connection: id });
      const connection = new ClientConnection(id, websocket, this.options.router, this.options.connectionLimits, logger);
      this.connections.add(connection);
      websocket.on('close', () => this.connections.delete(connection));
    });
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
