import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A child process of `sluice dev-cluster`: its output appended to a log file, its end watched, and
 * stopped by PID (SIGTERM, then SIGKILL after a bounded wait). It runs detached (a session and
 * process group of its own), so a Ctrl-C in the terminal reaches only the dev-cluster, which then
 * stops the children in order (brokers before etcd, whose lease they revoke on the way out).
 */
export class SupervisedProcess {
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | null = null;

  private constructor(readonly name: string, readonly logPath: string, private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts `command args`, stdout and stderr appended to `logPath`; throws when it cannot be spawned. */
  static async start(name: string, command: string, args: readonly string[], logPath: string): Promise<SupervisedProcess> {
    const log = openSync(logPath, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
      // A failure to spawn is reported by an 'error' event in place of 'spawn'.
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (error) => reject(new Error(`cannot start ${name} (${command}): ${error.message}`)));
      });
      return new SupervisedProcess(name, logPath, child);
    } finally {
      closeSync(log);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True until the child has exited. */
  get running(): boolean {
    return this.exit === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with how it ended and whether it had to be killed. */
  async stop(graceMs: number): Promise<ChildExit & { readonly killed: boolean }> {
    if (this.exit !== null) return { ...this.exit, killed: false };
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (late) this.kill();
    return { ...(await this.exited), killed: late };
  }

  /** SIGKILL now, if it still runs (safe to call from an 'exit' handler: synchronous). */
  kill(): void {
    this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exit !== null) return;
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      // Exited between the check and the signal: its 'exit' event is on its way.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** Describes how a child ended, for a message. */
export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
}
