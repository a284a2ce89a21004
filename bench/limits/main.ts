#!/usr/bin/env node
/**
 * The machine's limits alone: what the disk, loopback WebSocket and CRC-32C allow a Node process
 * doing what Sluice does. Measures on a temp dir under os.tmpdir() (removed afterwards), prints
 * tables to stdout and progress to stderr, and writes bench/results/limits-<date>.json and
 * limits-latest.json. `npm run bench:limits` (builds first); `--quick` for a smoke run,
 * `--no-results` to write nothing. bench/compare measures the same in its own run.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describeMachine } from '../common/machine-info.js';
import { formatLimitsReport, writeLimitsResults, type LimitsResults } from './limits-report.js';
import { LIMIT_OPTIONS_FULL, LIMIT_OPTIONS_QUICK, measureLimits } from './measure-limits.js';

const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results', import.meta.url));

const progress = (line: string): void => { process.stderr.write(`${line}\n`); };

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const writeResults = !process.argv.includes('--no-results');
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-limits-'));
  const removeOnSignal = (): void => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', removeOnSignal);
  process.once('SIGTERM', removeOnSignal);
  try {
    const machine = await describeMachine(dataDir);
    const loadAtStart = loadavg()[0] ?? 0;
    const startMs = performance.now();
    const limits = await measureLimits(dataDir, progress, quick ? LIMIT_OPTIONS_QUICK : LIMIT_OPTIONS_FULL);
    const results: LimitsResults = {
      formatVersion: 1, quick, machine, elapsedSeconds: (performance.now() - startMs) / 1000,
      loadAverage1m: { atStart: loadAtStart, atEnd: loadavg()[0] ?? 0 }, limits,
    };
    process.stdout.write(`${formatLimitsReport(results)}\n`);
    if (writeResults) progress(`wrote ${(await writeLimitsResults(RESULTS_DIR, results)).join(' and ')}`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
