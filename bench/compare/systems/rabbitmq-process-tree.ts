import { readdir, readFile } from 'node:fs/promises';

/**
 * The processes under a PID, read from /proc (Linux). RabbitMQ's sbin script runs beam.smp as a
 * child, and beam.smp runs helpers of its own (erl_child_setup, inet_gethost, a disk-monitor
 * shell); stopping it means knowing each of them by PID.
 */

/** One process: its PID, its parent's and its command name (comm). */
export interface ProcessEntry {
  readonly pid: number;
  readonly parentPid: number;
  readonly command: string;
}

/** Every process under `rootPid` (children, grandchildren, ...), parents before children. */
export async function descendantsOf(rootPid: number): Promise<ProcessEntry[]> {
  const all = await listProcesses();
  const result: ProcessEntry[] = [];
  const parents = [rootPid];
  // Bounded: each process is visited at most once, and there are `all.length` of them.
  for (let i = 0; i < parents.length && i <= all.length; i++) {
    for (const entry of all) {
      if (entry.parentPid !== parents[i]) continue;
      result.push(entry);
      parents.push(entry.pid);
    }
  }
  return result;
}

/** True while a process with this PID exists (a zombie counts as gone). */
export async function processAlive(pid: number): Promise<boolean> {
  const entry = await readProcess(pid);
  return entry !== null && entry.state !== 'Z';
}

async function listProcesses(): Promise<ProcessEntry[]> {
  const names = await readdir('/proc');
  const entries = await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readProcess(Number(name))));
  return entries.filter((entry): entry is ProcessEntry & { state: string } => entry !== null);
}

// /proc/<pid>/stat is "pid (comm) state ppid ...", and comm may itself hold spaces or parens.
async function readProcess(pid: number): Promise<(ProcessEntry & { state: string }) | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const [state, parentPid] = stat.slice(close + 2).split(' ');
  if (open < 0 || close < open || state === undefined || parentPid === undefined) return null;
  return { pid, parentPid: Number(parentPid), command: stat.slice(open + 1, close), state };
}
