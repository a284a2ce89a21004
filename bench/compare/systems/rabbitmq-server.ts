import { randomBytes } from 'node:crypto';
import { access, chmod, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess, freePort } from '../server-process.js';
import { descendantsOf, processAlive, type ProcessEntry } from './rabbitmq-process-tree.js';

/**
 * One RabbitMQ node with the stream plugin, run from Debian's sbin script (not as a service)
 * with every bit of its state — Mnesia and stream data, logs, config, enabled plugins, Erlang
 * cookie — in a temp dir, listening on 127.0.0.1 only.
 *
 * The script (/usr/lib/rabbitmq/bin/rabbitmq-server) runs `erl` in the background and waits
 * for it, so the process we spawn is a shell whose child is beam.smp, which has helpers of its
 * own. /usr/sbin/rabbitmq-server is not used: that wrapper `su`s to the rabbitmq user and cd's
 * to /var/lib/rabbitmq. Root may run the script directly. The node registers its name with
 * the epmd already running on this machine (port 4369); that daemon is not ours and is left alone.
 */

/** Debian's script that starts a node in the foreground. */
export const RABBITMQ_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Starting a node (Erlang boot, Mnesia, plugins) takes ~10 s on this machine; allow for a busy one. */
const READY_TIMEOUT_MS = 120_000;
const BEAM_STOP_GRACE_MS = 30_000;
const KILLED_EXIT_WAIT_MS = 5_000;
const EXIT_POLL_MS = 100;
const BEAM_COMMAND = 'beam.smp';

/** True when the sbin script is installed and executable. */
export async function rabbitmqServerInstalled(): Promise<boolean> {
  try {
    await access(RABBITMQ_SERVER_SCRIPT, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Ports a node listens on (all on 127.0.0.1). */
export interface RabbitMqPorts {
  readonly stream: number;
  readonly amqp: number;
  readonly distribution: number;
}

/** A running node: its script's process, the beam.smp under it, and its temp dir. */
export class RabbitMqNode {
  private constructor(
    readonly ports: RabbitMqPorts,
    readonly beamPid: number,
    private readonly stateDir: string,
    private readonly script: ServerProcess,
  ) {}

  /** Starts a node and waits (bounded) until its stream port accepts connections. */
  static async start(): Promise<RabbitMqNode> {
    const stateDir = await mkdtemp(join(tmpdir(), 'sluice-bench-rabbitmq-'));
    try {
      const ports: RabbitMqPorts = { stream: await freePort(), amqp: await freePort(), distribution: await freePort() };
      const env = await writeNodeFiles(stateDir, ports);
      const script = await ServerProcess.start({
        label: 'rabbitmq-server', command: RABBITMQ_SERVER_SCRIPT, args: [], env, cwd: stateDir,
        readyPorts: [ports.stream], readyTimeoutMs: READY_TIMEOUT_MS,
      });
      const beam = (await descendantsOf(script.pid)).find((entry) => entry.command === BEAM_COMMAND);
      if (beam === undefined) {
        await script.stop();
        throw new Error(`rabbitmq-server is listening but no ${BEAM_COMMAND} runs under PID ${script.pid}`);
      }
      return new RabbitMqNode(ports, beam.pid, stateDir, script);
    } catch (error) {
      await rm(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The node's log lines printed so far (for diagnostics). */
  get output(): string {
    return this.script.output;
  }

  /**
   * Stops beam.smp by PID (SIGTERM: RabbitMQ shuts down cleanly), SIGKILL after a grace; then
   * the script and any helper still alive, by PID; then removes the temp dir. Throws when a
   * process it started is still there afterwards.
   */
  async stop(): Promise<void> {
    const tree = await descendantsOf(this.script.pid);
    signal(this.beamPid, 'SIGTERM');
    if (!(await exitedWithin(this.beamPid, BEAM_STOP_GRACE_MS))) signal(this.beamPid, 'SIGKILL');
    await this.script.stop();
    const survivors = await killSurvivors(tree);
    await rm(this.stateDir, { recursive: true, force: true });
    if (survivors.length > 0) throw new Error(`RabbitMQ processes survived SIGKILL: ${survivors.map((entry) => `${entry.pid} ${entry.command}`).join(', ')}`);
  }
}

// Everything the node reads or writes is named here and lives under stateDir; the system-wide
// files (/etc/rabbitmq/*, /var/lib/rabbitmq, /var/log/rabbitmq) are not consulted.
async function writeNodeFiles(stateDir: string, ports: RabbitMqPorts): Promise<NodeJS.ProcessEnv> {
  const home = join(stateDir, 'home');
  await mkdir(home);
  const cookiePath = join(home, '.erlang.cookie');
  await writeFile(cookiePath, randomBytes(20).toString('hex').toUpperCase());
  await chmod(cookiePath, 0o400);
  const configPath = join(stateDir, 'rabbitmq.conf');
  await writeFile(configPath, [
    'loopback_users = none',
    `stream.listeners.tcp.1 = 127.0.0.1:${ports.stream}`,
    'stream.advertised_host = 127.0.0.1',
    `stream.advertised_port = ${ports.stream}`,
    '',
  ].join('\n'));
  const pluginsPath = join(stateDir, 'enabled_plugins');
  await writeFile(pluginsPath, '[rabbitmq_stream].\n');
  // Erlang's own resolver (/etc/hosts, then DNS) instead of the native one, which runs a pair of
  // inet_gethost port programs: when beam.smp stops, the second is orphaned to PID 1, and on a
  // machine whose PID 1 does not reap it stays behind as a zombie.
  const inetrcPath = join(stateDir, 'erl_inetrc');
  await writeFile(inetrcPath, '{lookup, [file, dns]}.\n');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    RABBITMQ_NODENAME: `sluice-bench-${randomBytes(4).toString('hex')}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.distribution),
    // Erlang distribution listens on every interface unless told otherwise.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(stateDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(stateDir, 'log'),
    RABBITMQ_CONFIG_FILE: configPath,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(stateDir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(stateDir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsPath,
    ERL_INETRC: inetrcPath,
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function exitedWithin(pid: number, waitMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + waitMs;
  while (Date.now() < deadlineMs) {
    if (!(await processAlive(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
  return !(await processAlive(pid));
}

// beam.smp's helpers exit with it; any that has not is killed by its PID.
async function killSurvivors(tree: readonly ProcessEntry[]): Promise<ProcessEntry[]> {
  const survivors: ProcessEntry[] = [];
  for (const entry of tree) {
    if (!(await processAlive(entry.pid))) continue;
    signal(entry.pid, 'SIGKILL');
    if (!(await exitedWithin(entry.pid, KILLED_EXIT_WAIT_MS))) survivors.push(entry);
  }
  return survivors;
}
