import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLUSTER_BENCH_PATH = fileURLToPath(new URL('../../dist/bench/cluster/main.js', import.meta.url));
const RUN_TIMEOUT_MS = 150_000;

// Runs the bench as a child process (bounded); async so vitest's own timers keep running meanwhile.
function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLUSTER_BENCH_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // SIGINT lets the bench stop its cluster (etcd and brokers) on the way out; nothing is left running.
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// Figures are the benchmark's business (npm run bench:cluster); this only keeps the program working
// and its JSON in shape.
describe('the cluster benchmark', () => {
  it('runs its quick mode on a real etcd and 3 brokers, prints both tables and writes its JSON', async () => {
    const resultsDir = await mkdtemp(join(tmpdir(), 'sluice-cluster-bench-results-'));
    try {
      const result = await runBench(['--quick', '--results-dir', resultsDir]);
      expect(result.code, result.stderr).toBe(0);
      for (const heading of ['1. Failover', 'per round', '2. Produce throughput', 'RF=3 acks=all', 'RF=1 acks=1', 'RF=1 acks=all']) {
        expect(result.stdout).toContain(heading);
      }
      expect(result.stderr).toContain('read back exactly once');
      const files = await readdir(resultsDir);
      expect(files).toContain('cluster-latest.json');
      expect(files.filter((name) => /^cluster-.*\.json$/.test(name))).toHaveLength(2);

      const json = JSON.parse(await readFile(join(resultsDir, 'cluster-latest.json'), 'utf8')) as Record<string, any>;
      expect(json['quick']).toBe(true);
      expect(typeof json['machine'].cpuCount).toBe('number');
      const [failover] = json['figures'].failover;
      expect(json['figures'].failover).toHaveLength(1);
      expect(failover.settings.brokerSessionTimeoutMs).toBe(2000);
      expect(failover.rounds).toHaveLength(1);
      for (const key of ['min', 'median', 'max']) expect(typeof failover.failoverMs[key]).toBe('number');
      expect(Object.keys(failover.breakdownMedianMs).sort()).toEqual(['electionWritten', 'leaseExpired', 'newLeaderServing']);
      const [round] = failover.rounds;
      expect(round.killedBrokerId).not.toBe(round.controllerId);
      expect(round.check.problemCount).toBe(0);
      expect(round.check.acknowledged).toBeGreaterThan(0);
      expect(typeof round.failoverMs).toBe('number');

      const cases = json['figures'].throughput.map((run: Record<string, unknown>) => `RF=${run['replicationFactor']} acks=${run['acks']}`);
      expect(cases).toEqual(['RF=3 acks=all', 'RF=3 acks=1', 'RF=1 acks=1', 'RF=1 acks=all']);
      for (const run of json['figures'].throughput) {
        expect(run.records).toBe(3000);
        for (const key of ['seconds', 'recordsPerSecond', 'megabytesPerSecond']) expect(typeof run[key]).toBe('number');
        expect(run.latencyMs.count).toBe(3000);
        for (const key of ['p50', 'p99']) expect(typeof run.latencyMs[key]).toBe('number');
      }
    } finally {
      await rm(resultsDir, { recursive: true, force: true });
    }
  }, RUN_TIMEOUT_MS + 30_000);
});
