import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';

/** A free TCP port on 127.0.0.1 (the benches share one finder). */
export { freePort } from '../cluster/cluster-processes.js';

/** What to run and how to tell it is ready. */
export interface ServerSpec {
  /** For messages, e.g. "nats-server". */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Ready once a TCP connect to each of these 127.0.0.1 ports succeeds. */
  readonly readyPorts: readonly number[];
  readonly readyTimeoutMs?: number;
}

const READY_POLL_MS = 50;
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * A peer server process started by the bench: spawned directly (no service manager), ready
 * when its ports accept connections, stopped by PID (SIGTERM, then SIGKILL after a grace).
 * The last few KB of its output are kept for the error message when it dies.
 */
export class ServerProcess {
  private outputTail = '';
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;

  private constructor(readonly label: string, private readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => { this.outputTail = (this.outputTail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => { this.exitCode = code; resolve(); }));
  }

  /** Spawns the server and waits (bounded) until every ready port accepts a connection. */
  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const options: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env };
    if (spec.cwd !== undefined) options.cwd = spec.cwd;
    const child = spawn(spec.command, [...spec.args], options);
    const server = new ServerProcess(spec.label, child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
    for (const port of spec.readyPorts) {
      for (;;) {
        if (server.exitCode !== undefined) throw new Error(`${spec.label} exited with ${server.exitCode} before it was ready:\n${server.outputTail}`);
        if (await portAccepts(port)) break;
        if (Date.now() > deadline) {
          await server.stop();
          throw new Error(`${spec.label} did not accept connections on 127.0.0.1:${port} in time:\n${server.outputTail}`);
        }
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      }
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last lines the server printed (for diagnostics). */
  get output(): string {
    return this.outputTail;
  }

  /** SIGTERM by PID, SIGKILL if it has not exited after the grace; resolves once it has exited. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (this.exitCode !== undefined) return;
    try { process.kill(this.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ } }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}
