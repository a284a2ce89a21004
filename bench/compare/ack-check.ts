import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { formatNumber } from '../common/table.js';
import type { AckCheck } from './compare-results.js';
import { freshStreamName } from './run-workloads.js';
import type { AckMeaning, SystemUnderTest } from './system.js';

/**
 * Checks what a system's acknowledgement means instead of taking its word: strace attaches to
 * every server process (threads with -f, and the processes they have started) and counts fsync
 * and fdatasync calls while the system acknowledges `records` records sent one at a time. One at
 * a time, a server that syncs before each ack must make at least one sync call per ack, however
 * it groups commits; one that syncs on a timer makes a handful in all. What the count cannot
 * see: writes through O_DSYNC/O_SYNC descriptors, sync_file_range, or io_uring.
 */

/** Longest wait for strace to attach to every thread. */
const ATTACH_MS_MAX = 10_000;
/** Longest wait for strace to detach and exit after SIGINT, before SIGKILL. */
const DETACH_MS_MAX = 5_000;
const POLL_MS = 20;
/** Processes below one server pid that are traced too (a wrapper script's server, a port helper). */
const DESCENDANTS_MAX = 32;

/** Runs the check on a started system; never throws (a failure becomes an untraced AckCheck with its reason). */
export async function checkAck(system: SystemUnderTest, records: number, valueBytes: number, log: (line: string) => void): Promise<AckCheck> {
  const untraced = (note: string): AckCheck => ({ traced: false, syncCalls: null, acks: records, syncCallsByPid: {}, note });
  const strace = findOnPath('strace');
  if (strace === null) return untraced('strace is not on PATH');
  const stream = freshStreamName('ack', 1);
  try {
    await system.createStream(stream, 1);
  } catch (error) {
    return untraced(`createStream failed: ${messageOf(error)}`);
  }
  const tracers: Tracer[] = [];
  try {
    const pids = await withDescendants(system.serverPids());
    if (pids.length === 0) return untraced('the system reported no server pid');
    for (const pid of pids) tracers.push(await Tracer.attach(strace, pid));
    log(`${system.name}: ack check: strace on pid ${pids.join(', ')} during ${formatNumber(records, 0)} sequential acks`);
    await system.produceSequential({ stream, records, valueBytes });
  } catch (error) {
    await Promise.all(tracers.map((tracer) => tracer.detach()));
    return untraced(`strace check failed: ${messageOf(error)}`);
  } finally {
    try {
      await system.dropStream(stream);
    } catch (error) {
      log(`${system.name}: ack check: dropping ${stream} failed: ${messageOf(error)}`);
    }
  }
  const counts = await Promise.all(tracers.map(async (tracer) => [String(tracer.pid), await tracer.detach()] as const));
  const syncCalls = counts.reduce((sum, [, count]) => sum + count, 0);
  return {
    traced: true, syncCalls, acks: records, syncCallsByPid: Object.fromEntries(counts),
    note: syncCalls >= records ? 'at least one sync call per ack' : 'fewer sync calls than acks: acks do not wait for a sync',
  };
}

/** The system's statement about its acks, with the check's finding put in: the trace wins over the claim. */
export function refineAckMeaning(claim: AckMeaning, check: AckCheck | null): AckMeaning {
  if (check === null) return claim;
  if (!check.traced || check.syncCalls === null) return { ...claim, evidence: `not traced (${check.note}); ${claim.evidence}` };
  const fsynced = check.syncCalls >= check.acks;
  const byPid = Object.values(check.syncCallsByPid);
  const split = byPid.length > 1 ? ` (${byPid.map((count) => formatNumber(count, 0)).join(' + ')} on ${byPid.length} processes)` : '';
  const evidence = `strace -f: ${formatNumber(check.syncCalls, 0)} fsync/fdatasync calls${split} for ${formatNumber(check.acks, 0)} sequential acks`;
  const description = fsynced === claim.fsynced ? claim.description : `${claim.description} — NOT what the trace shows (claimed ${claim.fsynced ? 'fsynced' : 'not fsynced'})`;
  return { fsynced, description, evidence };
}

/**
 * Counts the sync calls in strace output lines: a line that starts with the call, after an
 * optional "[pid N]". An interrupted call's "<... resumed>" line is not a second call.
 */
export function countSyncCalls(lines: readonly string[]): number {
  return lines.filter((line) => /^(?:\[pid\s+\d+\]\s+)?(?:fsync|fdatasync)\(/.test(line)).length;
}

/** One strace process attached to one pid and all its threads. */
class Tracer {
  private syncCalls = 0;
  private partial = '';
  private errorTail = '';
  private readonly exited: Promise<void>;
  private exitCode: number | null | undefined = undefined;

  private constructor(readonly pid: number, private readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => this.consume(chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => { this.exitCode = code; resolve(); }));
  }

  /** Starts strace on `pid` and waits (bounded) until every thread of it is traced. */
  static async attach(strace: string, pid: number): Promise<Tracer> {
    const child = spawn(strace, ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-e', 'signal=none', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const tracer = new Tracer(pid, child);
    const deadlineMs = Date.now() + ATTACH_MS_MAX;
    while (!(await allThreadsTraced(pid))) {
      if (tracer.exitCode !== undefined) throw new Error(`strace -p ${pid} exited with ${tracer.exitCode}: ${tracer.errorTail.trim()}`);
      if (Date.now() > deadlineMs) {
        await tracer.detach();
        throw new Error(`strace -p ${pid} did not attach to every thread within ${ATTACH_MS_MAX} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return tracer;
  }

  /** SIGINT (strace detaches), SIGKILL if it is late; resolves with the sync calls it saw. */
  async detach(): Promise<number> {
    if (this.exitCode === undefined) {
      try { process.kill(this.child.pid!, 'SIGINT'); } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(this.child.pid!, 'SIGKILL'); } catch { /* already gone */ } }, DETACH_MS_MAX);
      await this.exited;
      clearTimeout(timer);
    }
    this.consume('\n');
    return this.syncCalls;
  }

  private consume(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    this.syncCalls += countSyncCalls(lines);
    const other = lines.filter((line) => line.startsWith('strace:'));
    if (other.length > 0) this.errorTail = (this.errorTail + other.join('\n')).slice(-2_000);
  }
}

// Every thread of `pid` has a tracer (TracerPid ≠ 0 in /proc/<pid>/task/<tid>/status).
async function allThreadsTraced(pid: number): Promise<boolean> {
  const tids = await readdir(`/proc/${pid}/task`);
  const statuses = await Promise.all(tids.map((tid) => readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '')));
  return statuses.every((status) => status === '' || !/^TracerPid:\s+0$/m.test(status));
}

// `pids` and the processes below them (children of any of their threads), breadth first, bounded.
async function withDescendants(pids: readonly number[]): Promise<number[]> {
  const seen = new Set<number>(pids);
  const queue = [...pids];
  while (queue.length > 0 && seen.size < pids.length + DESCENDANTS_MAX) {
    const pid = queue.shift()!;
    const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tids) {
      const children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const child of children.split(' ').filter((word) => word !== '').map(Number)) {
        if (seen.has(child)) continue;
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return [...seen];
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // Not here.
    }
  }
  return null;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
