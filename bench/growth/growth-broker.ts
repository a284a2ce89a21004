import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Log lines kept per broker process; later ones are counted, not kept (the bench reads the start-up lines). */
export const LOG_LINES_KEPT_MAX = 10_000;

/** One pino JSON line of the broker, with its wall-clock time in ms since the epoch. */
export interface BrokerLogLine {
  readonly time: number;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** How long a start took, measured by this process and by the broker's own log lines. */
export interface StartTiming {
  /** spawn() → the "broker started" line read from the pipe (performance.now). */
  readonly spawnToStartedMs: number;
  /** Wall clock (Date.now) just before spawn(), to set against the log lines' `time`. */
  readonly spawnedAtMs: number;
}

/**
 * A `sluice broker` child process on a free loopback port whose JSON log lines are kept, so a
 * bench can time its start from them. Stopped or killed by PID, never by name.
 */
export class GrowthBroker {
  private readonly lines: BrokerLogLine[] = [];
  private linesDropped = 0;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly port: number, readonly timing: StartTiming, lines: BrokerLogLine[]) {
    this.lines.push(...lines);
    this.exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts the broker on `dataDir` and waits (bounded) for "broker started". */
  static async start(dataDir: string, timeoutMs: number): Promise<GrowthBroker> {
    const spawnedAtMs = Date.now();
    const started = performance.now();
    const child = spawn(process.execPath, [CLI_PATH, 'broker', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: BrokerLogLine[] = [];
    const reader = new LineReader();
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`broker did not log "broker started" within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (code: number | null, signal: string | null): void => { clearTimeout(timer); reject(new Error(`broker exited (${code ?? signal}) before it started`)); };
        child.once('exit', onExit);
        child.stdout!.on('data', function onData(chunk: Buffer) {
          for (const line of reader.take(chunk)) {
            lines.push(line);
            if (line.msg !== 'broker started') continue;
            clearTimeout(timer);
            child.off('exit', onExit);
            child.stdout!.off('data', onData);
            resolve(line.fields.port as number);
            return;
          }
        });
      });
      const broker = new GrowthBroker(child, port, { spawnToStartedMs: performance.now() - started, spawnedAtMs }, lines);
      broker.follow(reader);
      return broker;
    } catch (error) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      throw error;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The log lines seen so far (the first LOG_LINES_KEPT_MAX). */
  get logLines(): readonly BrokerLogLine[] {
    return this.lines;
  }

  /** Lines past LOG_LINES_KEPT_MAX, counted only. */
  get logLinesDropped(): number {
    return this.linesDropped;
  }

  /** SIGKILL by PID; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM by PID, SIGKILL after `timeoutMs`; resolves once the process is gone. */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (this.child.exitCode === null) process.kill(this.pid, 'SIGKILL'); }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  // Keeps reading the pipe (a full pipe would stall the broker), keeping lines up to the cap.
  private follow(reader: LineReader): void {
    this.child.stdout!.on('data', (chunk: Buffer) => {
      for (const line of reader.take(chunk)) {
        if (this.lines.length < LOG_LINES_KEPT_MAX) this.lines.push(line);
        else this.linesDropped += 1;
      }
    });
  }
}

function parseLine(text: string): BrokerLogLine | null {
  if (!text.startsWith('{')) return null;
  try {
    const fields = JSON.parse(text) as Record<string, unknown>;
    if (typeof fields.time !== 'number' || typeof fields.msg !== 'string') return null;
    return { time: fields.time, msg: fields.msg, fields };
  } catch {
    return null;
  }
}

/** The broker's log lines out of stdout chunks: whole lines only, a partial one kept for the next chunk. */
class LineReader {
  private pending = '';

  take(chunk: Buffer): BrokerLogLine[] {
    const complete = (this.pending + chunk.toString()).split('\n');
    this.pending = complete.pop()!;
    const lines: BrokerLogLine[] = [];
    for (const text of complete) {
      const line = parseLine(text);
      if (line !== null) lines.push(line);
    }
    return lines;
  }
}
