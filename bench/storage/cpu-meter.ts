import { performance } from 'node:perf_hooks';

/** How busy the process was during a case. */
export interface CpuUsage {
  /** Fraction of the wall time the main thread (event loop) was busy: near 1 means it is the bottleneck. */
  readonly eventLoopUtilization: number;
  /** Process CPU time, every thread (the libuv pool doing the writes and fsyncs included). */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** (user + system) / wall time: 1.0 is one core fully used. */
  readonly coresBusy: number;
}

/** Starts measuring; call the returned function at the end of the case. */
export function startCpuMeter(): () => CpuUsage {
  const startMs = performance.now();
  const loopStart = performance.eventLoopUtilization();
  const cpuStart = process.cpuUsage();
  return () => {
    const elapsedMs = performance.now() - startMs;
    const cpu = process.cpuUsage(cpuStart);
    const cpuUserMs = cpu.user / 1000;
    const cpuSystemMs = cpu.system / 1000;
    return {
      eventLoopUtilization: performance.eventLoopUtilization(loopStart).utilization,
      cpuUserMs,
      cpuSystemMs,
      coresBusy: elapsedMs === 0 ? 0 : (cpuUserMs + cpuSystemMs) / elapsedMs,
    };
  };
}
