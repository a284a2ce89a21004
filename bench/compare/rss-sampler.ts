import { readFile } from 'node:fs/promises';

/**
 * Samples the resident set size of a system's server processes from /proc every interval while
 * it runs, keeping each pid's peak. The pids are asked for at each sample, so a cluster's brokers
 * are all covered. Off Linux (no /proc) it records nothing.
 */
export class RssSampler {
  private readonly peakBytesByPid = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(private readonly pids: () => readonly number[], private readonly intervalMs: number) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  /** Stops sampling (after one last sample) and returns the peaks. */
  async stop(): Promise<{ peakBytes: number | null; peakBytesByPid: Record<string, number> }> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.sample();
    const peakBytesByPid = Object.fromEntries([...this.peakBytesByPid].map(([pid, bytes]) => [String(pid), bytes]));
    const peaks = [...this.peakBytesByPid.values()];
    return { peakBytes: peaks.length === 0 ? null : Math.max(...peaks), peakBytesByPid };
  }

  private async sample(): Promise<void> {
    // A slow /proc read must not pile up samples.
    if (this.sampling) return;
    this.sampling = true;
    try {
      await Promise.all(this.pids().map(async (pid) => {
        const bytes = await rssBytesOf(pid);
        if (bytes !== null) this.peakBytesByPid.set(pid, Math.max(bytes, this.peakBytesByPid.get(pid) ?? 0));
      }));
    } finally {
      this.sampling = false;
    }
  }
}

/** VmRSS of `pid` in bytes, or null when it cannot be read (gone, or no /proc). */
export async function rssBytesOf(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kilobytes === undefined ? null : Number(kilobytes) * 1024;
  } catch {
    return null;
  }
}
