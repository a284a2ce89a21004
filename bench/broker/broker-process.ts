import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A broker child process for the benchmark, on a free loopback port; stopped by PID. */
export class BenchBroker {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  /** Starts `sluice broker` on `dataDir` and waits (bounded) for its port. */
  static async start(dataDir: string, timeoutMs = 30_000): Promise<BenchBroker> {
    const child = spawn(process.execPath, [CLI_PATH, 'broker', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('broker did not start')), timeoutMs);
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        buffered += chunk.toString();
        for (const line of buffered.split('\n')) {
          if (!line.includes('"broker started"')) continue;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve((JSON.parse(line) as { port: number }).port);
          return;
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
    });
    return new BenchBroker(child, port);
  }

  /** The broker's resident memory in bytes (from /proc), or null off Linux. */
  async rssBytes(): Promise<number | null> {
    try {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return kb === undefined ? null : Number(kb) * 1024;
    } catch {
      return null;
    }
  }

  /** SIGTERM by PID; waits (bounded) for a clean exit. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(this.child.pid!, 'SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
