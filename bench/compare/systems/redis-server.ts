import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess, freePort } from '../server-process.js';

/** Where Debian's redis-server lives. */
export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

/** How often the append-only file is fsynced: before every reply, or once a second in the background. */
export type AppendFsyncPolicy = 'always' | 'everysec';

const READY_TIMEOUT_MS = 30_000;

/** True when the redis-server binary is installed and executable. */
export async function redisServerInstalled(): Promise<boolean> {
  try {
    await access(REDIS_SERVER_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * One redis-server process on 127.0.0.1 with its AOF in a temp dir (no RDB snapshots), started
 * directly (no service manager) and stopped by its PID.
 */
export class RedisServer {
  private constructor(readonly port: number, private readonly dataDir: string, private readonly process: ServerProcess) {}

  /** Starts redis-server with `appendonly yes` and the given fsync policy; ready once its port accepts. */
  static async start(policy: AppendFsyncPolicy): Promise<RedisServer> {
    const dataDir = await mkdtemp(join(tmpdir(), `sluice-bench-redis-${policy}-`));
    const port = await freePort();
    try {
      const process = await ServerProcess.start({
        label: `redis-server (appendfsync ${policy})`,
        command: REDIS_SERVER_PATH,
        args: [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir,
          '--appendonly', 'yes', '--appendfsync', policy, '--save', '', '--protected-mode', 'yes',
        ],
        cwd: dataDir,
        readyPorts: [port],
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      return new RedisServer(port, dataDir, process);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Stops the server by PID (SIGTERM, then SIGKILL after a grace) and removes its data dir. */
  async stop(): Promise<void> {
    await this.process.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
