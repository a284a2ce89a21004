import { readFile } from 'node:fs/promises';

/** What a fault test reads of a broker process from outside: memory, liveness, HTTP health. */

/** Resident set size of a process, in bytes, from /proc/<pid>/status (VmRSS). */
export async function rssBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** True while a process with this id exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The HTTP status of `GET /healthz` (bounded by `timeoutMs`). */
export async function healthzStatus(port: number, timeoutMs = 5_000): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.status;
}

/**
 * The open WebSocket connections the broker reports in /metrics (`sluice_websocket_connections`),
 * or null when it exports no such gauge.
 */
export async function connectionGauge(port: number, timeoutMs = 5_000): Promise<number | null> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  if (response.status !== 200) return null;
  const line = text.split('\n').find((candidate) => candidate.startsWith('sluice_websocket_connections '));
  return line === undefined ? null : Number(line.slice('sluice_websocket_connections '.length));
}

/** Polls `read` (bounded) until `accept` holds for its value; returns the last value read. */
export async function pollUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
