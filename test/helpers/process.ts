import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry point (the vitest global setup builds it). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** Runs `sluice <args>` to completion (bounded by `timeoutMs`); returns exit code and output. */
export function runCli(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `sluice` process whose stdout lines (pino JSON) are collected. */
export class CliProcess {
  readonly lines: string[] = [];
  /** What the process wrote to stderr, for diagnosing a start that failed. */
  stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `sluice <args>`. */
  static start(args: readonly string[]): CliProcess {
    return new CliProcess(spawn(process.execPath, [CLI_PATH, ...args], { stdio: 'pipe' }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits (bounded) for a JSON log line whose `msg` is `msg` and whose fields include `fields`; returns it parsed. */
  async waitForLog(msg: string, timeoutMs = 30_000, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const line of this.lines) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.msg === msg && Object.entries(fields).every(([key, value]) => parsed[key] === value)) return parsed;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no log line "${msg}" within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
  }

  /** Sends `signal` to the process by PID and waits (bounded) for its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    process.kill(this.pid, signal);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`pid ${this.pid} did not exit`)), timeoutMs).unref());
    try {
      return await Promise.race([this.exited, timeout]);
    } catch (error) {
      this.child.kill('SIGKILL');
      throw error;
    }
  }
}
