/**
 * The nats-server configuration file the bench writes for each node. Format: nats-server's own
 * config syntax (`key: value`, blocks in braces, strings quoted), one file per node:
 *
 *   server_name: "n1"
 *   listen: "127.0.0.1:<client port>"
 *   jetstream { store_dir: "<temp dir>", sync_interval: always }   # sync_interval only on >= 2.10
 *   cluster { name: "...", listen: "127.0.0.1:<route port>", routes: ["nats-route://127.0.0.1:<port>", ...] }
 *   websocket { listen: "127.0.0.1:<ws port>", no_tls: true }
 *
 * Everything listens on 127.0.0.1 only.
 */

/** The routes block of one member of a loopback cluster. */
export interface NatsClusterConfig {
  readonly name: string;
  readonly routePort: number;
  /** Route ports of every member (its own included: nats-server ignores a route to itself). */
  readonly routePorts: readonly number[];
}

/** What one node's configuration says. */
export interface NatsNodeConfig {
  readonly serverName: string;
  readonly clientPort: number;
  readonly storeDir: string;
  /** Adds `sync_interval: always` (fsync before every ack); only nats-server >= 2.10 knows it. */
  readonly syncAlways: boolean;
  readonly cluster: NatsClusterConfig | null;
  readonly webSocketPort: number | null;
}

/** The text of a nats-server configuration file for one node. */
export function natsServerConfig(node: NatsNodeConfig): string {
  const lines = [
    `server_name: ${quote(node.serverName)}`,
    `listen: ${quote(`127.0.0.1:${node.clientPort}`)}`,
    'jetstream {',
    `  store_dir: ${quote(node.storeDir)}`,
    ...(node.syncAlways ? ['  sync_interval: always'] : []),
    '}',
  ];
  if (node.cluster !== null) {
    const routes = node.cluster.routePorts.map((port) => quote(`nats-route://127.0.0.1:${port}`));
    lines.push(
      'cluster {',
      `  name: ${quote(node.cluster.name)}`,
      `  listen: ${quote(`127.0.0.1:${node.cluster.routePort}`)}`,
      `  routes: [${routes.join(', ')}]`,
      '}',
    );
  }
  if (node.webSocketPort !== null) {
    lines.push('websocket {', `  listen: ${quote(`127.0.0.1:${node.webSocketPort}`)}`, '  no_tls: true', '}');
  }
  return `${lines.join('\n')}\n`;
}

// JSON string syntax is valid nats-server config string syntax for the paths and names we write.
function quote(value: string): string {
  return JSON.stringify(value);
}
