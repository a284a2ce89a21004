import { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, expectOk } from '../client/index.js';
import { nodeWebSocket } from '../client/node.js';
import { ApiKey } from '../protocol/index.js';
import { printLine } from './cli-connection.js';
import { ETCD_INSTALL_HINT, findOnPath, freePort, startDevEtcd, type DevEtcd } from './dev-etcd.js';
import { SupervisedProcess, describeExit } from './supervised-process.js';
import { parsePositive } from './topic-command.js';

/** Every process of a dev cluster listens on loopback only. */
const HOST = '127.0.0.1';
const BROKER_COUNT_MAX = 16;
const ETCD_START_TIMEOUT_MS = 30_000;
/** From spawning the brokers to every one of them listing all the others and a controller. */
const BROKERS_READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 250;
/** SIGTERM to SIGKILL: a broker's clean stop writes checkpoints, which takes well under this. */
const BROKER_STOP_GRACE_MS = 10_000;
const ETCD_STOP_GRACE_MS = 5_000;
/** The CLI entry point, run again for each broker (dist/src/cli/main.js beside this file). */
const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface DevClusterOptions {
  readonly brokers: number;
  /** `<data-dir>/dev-cluster`, absolute. */
  readonly root: string;
  readonly basePort: number | null;
}

interface DevBroker {
  readonly id: number;
  readonly port: number;
  readonly process: SupervisedProcess;
}

/** A stop asked for by a signal while the cluster was still starting. */
class StopRequested extends Error {}

/** `sluice dev-cluster`: etcd and N brokers on this machine, stopped together by Ctrl-C. */
export function devClusterCommand(): Command {
  return new Command('dev-cluster')
    .description('run etcd and N clustered brokers on 127.0.0.1 for development; Ctrl-C stops them all')
    .option('--brokers <count>', `number of brokers, ids 1..N (at most ${BROKER_COUNT_MAX})`, '3')
    .option('--data-dir <dir>', 'data goes in <dir>/dev-cluster (etcd/, broker-N/, logs); a second run resumes it', './data')
    .option('--base-port <port>', 'broker N listens on base-port + N - 1 (default: free ports)')
    .action(async (flags: { brokers: string; dataDir: string; basePort?: string }) => {
      let options: DevClusterOptions;
      try {
        options = parseOptions(flags);
      } catch (error) {
        process.stderr.write(`sluice dev-cluster: ${(error as Error).message}\n`);
        process.exit(2);
      }
      process.exit(await runDevCluster(options));
    });
}

function parseOptions(flags: { brokers: string; dataDir: string; basePort?: string }): DevClusterOptions {
  const brokers = parsePositive(flags.brokers, '--brokers');
  if (brokers > BROKER_COUNT_MAX) throw new Error(`--brokers must be at most ${BROKER_COUNT_MAX}, not ${brokers}`);
  const basePort = flags.basePort === undefined ? null : parsePositive(flags.basePort, '--base-port');
  if (basePort !== null && basePort + brokers - 1 > 65_535) throw new Error(`--base-port ${basePort} leaves no room for ${brokers} ports below 65536`);
  return { brokers, root: resolve(flags.dataDir, 'dev-cluster'), basePort };
}

/** Runs the cluster until SIGINT or SIGTERM; resolves with the exit code. */
async function runDevCluster(options: DevClusterOptions): Promise<number> {
  const etcdPath = await findOnPath('etcd');
  if (etcdPath === null) {
    process.stderr.write(`sluice dev-cluster: ${ETCD_INSTALL_HINT}\n`);
    return 1;
  }
  const cluster = new DevCluster(options, etcdPath);
  const onSignal = (signal: NodeJS.Signals): void => cluster.requestStop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal: the children, in sessions of their own, would not hear of it.
  process.on('SIGHUP', onSignal);
  // Children run in their own process groups: should this process die of an error, take them along.
  process.on('exit', () => cluster.killAll());
  let code = 0;
  try {
    await cluster.start();
    for (const line of cluster.describe()) printLine(line);
    printLine('ready');
    await cluster.stopRequested;
  } catch (error) {
    if (!(error instanceof StopRequested)) {
      process.stderr.write(`sluice dev-cluster: ${(error as Error).message}\n`);
      code = 1;
    }
  }
  await cluster.stop();
  printLine('stopped');
  return code;
}

/**
 * etcd and the brokers as child processes. Starting: etcd, then every broker at once, then wait
 * until each broker's Metadata lists all of them (on the ports given now: a registration left by
 * an earlier run that was killed has other ports) and a controller. Stopping: the brokers
 * (SIGTERM, SIGKILL after a bound), then etcd; a second signal kills whatever still runs.
 */
class DevCluster {
  readonly stopRequested: Promise<void>;
  private etcd: DevEtcd | null = null;
  private readonly brokers: DevBroker[] = [];
  private stopSignal: NodeJS.Signals | null = null;
  private stopping: Promise<void> | null = null;
  private resolveStopRequested!: () => void;

  constructor(private readonly options: DevClusterOptions, private readonly etcdPath: string) {
    this.stopRequested = new Promise((resolve) => { this.resolveStopRequested = resolve; });
  }

  requestStop(signal: NodeJS.Signals): void {
    if (this.stopSignal !== null) {
      process.stderr.write(`sluice dev-cluster: ${signal} again: killing every process now\n`);
      this.killAll();
      return;
    }
    this.stopSignal = signal;
    this.resolveStopRequested();
  }

  async start(): Promise<void> {
    const { root } = this.options;
    await mkdir(root, { recursive: true });
    this.etcd = await startDevEtcd(this.etcdPath, HOST, join(root, 'etcd'), join(root, 'etcd.log'), ETCD_START_TIMEOUT_MS);
    this.watchForUnexpectedExit('etcd', this.etcd.process);
    this.checkStop();
    for (let id = 1; id <= this.options.brokers; id++) {
      const port = this.options.basePort === null ? await freePort(HOST) : this.options.basePort + id - 1;
      const child = await SupervisedProcess.start(`broker ${id}`, process.execPath, [
        CLI_MAIN, 'broker', '--etcd', this.etcd.url, '--broker-id', String(id), '--host', HOST, '--port', String(port),
        '--data-dir', join(root, `broker-${id}`),
      ], join(root, `broker-${id}.log`));
      this.brokers.push({ id, port, process: child });
      this.watchForUnexpectedExit(`broker ${id}`, child);
    }
    await this.waitUntilReady();
  }

  /** The lines that tell where everything is: etcd, each broker, the logs. */
  describe(): string[] {
    return [
      `etcd ${this.etcd!.url} pid ${this.etcd!.process.pid}`,
      ...this.brokers.map(({ id, port, process }) => `broker ${id} ws://${HOST}:${port} http://${HOST}:${port} pid ${process.pid}`),
      `logs ${this.options.root}`,
    ];
  }

  /** Stops the brokers, then etcd; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const results = await Promise.all(this.brokers.map(async (broker) => ({ broker, result: await broker.process.stop(BROKER_STOP_GRACE_MS) })));
      for (const { broker, result } of results) {
        if (result.killed) process.stderr.write(`sluice dev-cluster: broker ${broker.id} did not stop within ${BROKER_STOP_GRACE_MS} ms of SIGTERM and was killed\n`);
      }
      if (this.etcd !== null && (await this.etcd.process.stop(ETCD_STOP_GRACE_MS)).killed) {
        process.stderr.write(`sluice dev-cluster: etcd did not stop within ${ETCD_STOP_GRACE_MS} ms of SIGTERM and was killed\n`);
      }
    })();
    return this.stopping;
  }

  /** SIGKILL to every child still running; synchronous, for the 'exit' handler. */
  killAll(): void {
    for (const broker of this.brokers) broker.process.kill();
    this.etcd?.process.kill();
  }

  // Said once, and not restarted: a dev cluster is for watching what a cluster does without a member.
  private watchForUnexpectedExit(name: string, child: SupervisedProcess): void {
    void child.exited.then((exit) => {
      if (this.stopSignal !== null || this.stopping !== null) return;
      process.stderr.write(`sluice dev-cluster: ${name} (pid ${child.pid}) exited unexpectedly (${describeExit(exit)}); it is not restarted; its log: ${child.logPath}\n`);
    });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + BROKERS_READY_TIMEOUT_MS;
    let waitingFor = 'the brokers to start';
    while (Date.now() < deadline) {
      this.checkStop();
      const dead = this.brokers.find((broker) => !broker.process.running);
      if (dead !== undefined) throw new Error(`broker ${dead.id} exited while starting (${describeExit(await dead.process.exited)}); see ${dead.process.logPath}`);
      if (this.etcd?.process.running === false) throw new Error(`etcd exited while the brokers were starting; see ${this.etcd.process.logPath}`);
      const pending = await this.firstNotReady();
      if (pending === null) return;
      waitingFor = pending;
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    throw new Error(`the cluster was not ready within ${BROKERS_READY_TIMEOUT_MS} ms: waiting for ${waitingFor}; logs in ${this.options.root}`);
  }

  // What the first broker that is not ready yet lacks, or null when every one sees the whole cluster.
  private async firstNotReady(): Promise<string | null> {
    for (const broker of this.brokers) {
      let connection: Connection | null = null;
      try {
        connection = await Connection.connect({ url: `ws://${HOST}:${broker.port}`, webSocketFactory: nodeWebSocket, clientId: 'sluice-dev-cluster' });
        const metadata = expectOk(await connection.request(ApiKey.Metadata, { allTopics: false, topics: [] }));
        const missing = this.brokers.filter(({ id, port }) => !metadata.brokers.some((listed) => listed.brokerId === id && listed.port === port));
        if (missing.length > 0) return `broker ${broker.id} to see broker${missing.length === 1 ? '' : 's'} ${missing.map(({ id }) => id).join(', ')}`;
        if ((metadata.controllerId ?? -1) < 0) return `broker ${broker.id} to see a controller`;
      } catch (error) {
        return `broker ${broker.id} to answer (${(error as Error).message})`;
      } finally {
        connection?.close();
      }
    }
    return null;
  }

  private checkStop(): void {
    if (this.stopSignal !== null) throw new StopRequested(this.stopSignal);
  }
}
