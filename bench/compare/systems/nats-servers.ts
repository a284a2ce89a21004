import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { freePort, ServerProcess } from '../server-process.js';
import { natsServerConfig, type NatsNodeConfig } from './nats-config.js';

/** How many nats-server processes, and with which listeners. */
export interface NatsDeploymentOptions {
  /** Path of the nats-server executable. */
  readonly binary: string;
  /** 1 for a standalone server, 3 for a loopback cluster. */
  readonly nodeCount: 1 | 3;
  /** Adds a WebSocket listener (first node only: that is where nats.ws connects). */
  readonly webSocket: boolean;
  readonly syncAlways: boolean;
}

const CLUSTER_NAME = 'sluice-bench';
const PORT_READY_TIMEOUT_MS = 30_000;
// A cluster needs its routes up and a JetStream meta leader elected before it takes a stream.
const JETSTREAM_READY_TIMEOUT_MS = 60_000;
const JETSTREAM_READY_POLL_MS = 250;
const JETSTREAM_REQUEST_TIMEOUT_MS = 2_000;
const PROBE_STREAM = 'sluice_bench_ready_probe';

/**
 * The nats-server process(es) of one system under test: each with its own config file and store
 * dir under one temp dir, listening on free loopback ports, stopped by PID. Ready means JetStream
 * answers and (cluster) a stream with one replica per node can be created.
 */
export class NatsDeployment {
  private constructor(
    private readonly rootDir: string,
    private readonly servers: readonly ServerProcess[],
    /** Client (TCP) port of each node, in node order. */
    readonly clientPorts: readonly number[],
    /** WebSocket port of the first node, when asked for. */
    readonly webSocketPort: number | null,
  ) {}

  /** Writes the configs, starts every node, and waits (bounded) until JetStream is usable. */
  static async start(options: NatsDeploymentOptions): Promise<NatsDeployment> {
    const rootDir = await mkdtemp(join(tmpdir(), 'sluice-bench-nats-'));
    let configs: NatsNodeConfig[];
    try {
      configs = await nodeConfigs(rootDir, options);
    } catch (error) {
      await rm(rootDir, { recursive: true, force: true });
      throw error;
    }
    const started = await Promise.allSettled(configs.map((config) => startNode(options.binary, rootDir, config)));
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const deployment = new NatsDeployment(rootDir, servers, configs.map((c) => c.clientPort), configs[0]!.webSocketPort);
    const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    try {
      if (failure !== undefined) throw failure.reason;
      await deployment.waitForJetStream(options.nodeCount);
    } catch (error) {
      await deployment.stop();
      throw error;
    }
    return deployment;
  }

  /** PIDs of the running nodes, in node order. */
  pids(): readonly number[] {
    return this.servers.map((server) => server.pid);
  }

  /** `host:port` of every node's client listener, for the TCP client. */
  clientServers(): string[] {
    return this.clientPorts.map((port) => `127.0.0.1:${port}`);
  }

  /** Stops every node by PID (SIGTERM, SIGKILL after a grace) and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
    await rm(this.rootDir, { recursive: true, force: true });
  }

  private async waitForJetStream(replicas: number): Promise<void> {
    const nc = await connect({ servers: this.clientServers(), reconnect: false, timeout: JETSTREAM_REQUEST_TIMEOUT_MS });
    try {
      const deadline = Date.now() + JETSTREAM_READY_TIMEOUT_MS;
      let lastError: unknown = null;
      while (Date.now() < deadline) {
        try {
          await probeJetStream(nc, replicas);
          return;
        } catch (error) {
          lastError = error;
        }
        await new Promise((resolve) => setTimeout(resolve, JETSTREAM_READY_POLL_MS));
      }
      const output = this.servers.map((server) => `--- ${server.label}\n${server.output}`).join('\n');
      throw new Error(`JetStream was not ready within ${JETSTREAM_READY_TIMEOUT_MS} ms: ${String(lastError)}\n${output}`);
    } finally {
      await nc.close();
    }
  }
}

// Account info answers once this server's JetStream is up (in a cluster: once a meta leader is
// elected); the probe stream proves enough peers have joined to place `replicas` replicas.
async function probeJetStream(nc: NatsConnection, replicas: number): Promise<void> {
  const jsm = await nc.jetstreamManager({ timeout: JETSTREAM_REQUEST_TIMEOUT_MS });
  await jsm.getAccountInfo();
  if (replicas === 1) return;
  await jsm.streams.add({
    name: PROBE_STREAM, subjects: [PROBE_STREAM], storage: StorageType.File, num_replicas: replicas, retention: RetentionPolicy.Limits,
  });
  await jsm.streams.delete(PROBE_STREAM);
}

async function nodeConfigs(rootDir: string, options: NatsDeploymentOptions): Promise<NatsNodeConfig[]> {
  const routePorts = options.nodeCount === 1 ? [] : await Promise.all(Array.from({ length: options.nodeCount }, () => freePort()));
  const configs: NatsNodeConfig[] = [];
  for (let index = 0; index < options.nodeCount; index++) {
    const storeDir = join(rootDir, `n${index + 1}`, 'jetstream');
    await mkdir(storeDir, { recursive: true });
    configs.push({
      serverName: `n${index + 1}`,
      clientPort: await freePort(),
      storeDir,
      syncAlways: options.syncAlways,
      cluster: options.nodeCount === 1 ? null : { name: CLUSTER_NAME, routePort: routePorts[index]!, routePorts },
      webSocketPort: options.webSocket && index === 0 ? await freePort() : null,
    });
  }
  return configs;
}

async function startNode(binary: string, rootDir: string, config: NatsNodeConfig): Promise<ServerProcess> {
  const configPath = join(rootDir, `${config.serverName}.conf`);
  await writeFile(configPath, natsServerConfig(config));
  const readyPorts = config.webSocketPort === null ? [config.clientPort] : [config.clientPort, config.webSocketPort];
  return ServerProcess.start({
    label: `nats-server ${config.serverName}`, command: binary, args: ['-c', configPath], readyPorts, readyTimeoutMs: PORT_READY_TIMEOUT_MS,
  });
}
