import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BENCH_PATH = fileURLToPath(new URL('../../dist/bench/storage/main.js', import.meta.url));
const BROKER_BENCH_PATH = fileURLToPath(new URL('../../dist/bench/broker/main.js', import.meta.url));

// Figures are the benchmark's business (npm run bench); this only keeps the program working.
describe('the storage benchmark', () => {
  it('runs its quick mode to completion and prints every table', () => {
    const result = spawnSync(process.execPath, [BENCH_PATH, '--quick', '--no-results'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    for (const heading of ['1. PartitionLog.append', '2. PartitionLog.read', '3. Raw limit', '4. Log vs raw', '5. CPU']) {
      expect(result.stdout).toContain(heading);
    }
    expect(result.stdout).toMatch(/CRC-32C: native/);
  });

  it('runs the broker benchmark quick mode against a real broker and prints every figure', () => {
    const result = spawnSync(process.execPath, [BROKER_BENCH_PATH, '--quick', '--no-results'], { encoding: 'utf8', timeout: 120_000 });
    expect(result.status, result.stderr).toBe(0);
    for (const heading of ['produce (1 producer, acks=1, fsync)', 'consume (1 consumer, subscribe)', 'end-to-end latency', 'HTTP produce', 'errors 0, non-2xx 0']) {
      expect(result.stdout).toContain(heading);
    }
  });
});
