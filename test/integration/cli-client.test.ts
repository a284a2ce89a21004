import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, CliProcess, runCli } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

let broker: CliProcess;
let brokerUrl: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = await makeTempDir('sluice-cli-');
  cleanup = temp.cleanup;
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', temp.dir]);
  brokerUrl = `ws://127.0.0.1:${(await broker.waitForLog('broker started')).port as number}`;
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** Runs `sluice <args>` with `input` on stdin (bounded in time). */
function runWithInput(args: readonly string[], input: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sluice ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input);
  });
}

describe('the sluice command against a running broker', () => {
  it('creates, lists, describes and deletes topics', async () => {
    expect((await runCli(['topic', 'create', 'cli-topics', '--partitions', '4', '--broker', brokerUrl])).stdout).toBe('created cli-topics\n');
    expect((await runCli(['topic', 'list', '--broker', brokerUrl])).stdout.split('\n')).toContain('cli-topics');
    const described = await runCli(['topic', 'describe', 'cli-topics', '--broker', brokerUrl]);
    expect(described.stdout).toMatch(/^topic cli-topics partitions 4 replication-factor 1 min-insync-replicas 1\n(  partition \d leader 0 epoch 0 replicas 0 isr 0 offsets \[0, 0\)\n){4}$/);
    const duplicate = await runCli(['topic', 'create', 'cli-topics', '--broker', brokerUrl]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    expect((await runCli(['topic', 'delete', 'cli-topics', '--broker', brokerUrl])).code).toBe(0);
    expect((await runCli(['topic', 'list', '--broker', brokerUrl])).stdout.split('\n')).not.toContain('cli-topics');
  });

  it('refuses a min-insync-replicas above the replication factor with INVALID_CONFIG', async () => {
    const refused = await runCli(['topic', 'create', 'cli-strict', '--min-insync-replicas', '2', '--broker', brokerUrl]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('INVALID_CONFIG');
    expect((await runCli(['topic', 'list', '--broker', brokerUrl])).stdout.split('\n')).not.toContain('cli-strict');
    expect((await runCli(['topic', 'create', 'cli-strict', '--min-insync-replicas', '1', '--broker', brokerUrl])).code).toBe(0);
    const described = await runCli(['topic', 'describe', 'cli-strict', '--broker', brokerUrl]);
    expect(described.stdout.split('\n')[0]).toBe('topic cli-strict partitions 1 replication-factor 1 min-insync-replicas 1');
  });

  it('produces 100,000 stdin lines and consumes them all back, byte-equal and in order per partition', async () => {
    await runCli(['topic', 'create', 'cli-bulk', '--partitions', '3', '--broker', brokerUrl]);
    const lines = Array.from({ length: 100_000 }, (_, i) => `record-${String(i).padStart(6, '0')}-${'x'.repeat(80)}`);
    const produced = await runWithInput(['produce', '--topic', 'cli-bulk', '--broker', brokerUrl, '--print-offsets', '--format', 'json'], `${lines.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    const acks = produced.stdout.trim().split('\n').map((line) => JSON.parse(line) as { partition: number; offset: number; value: string });
    expect(acks.map((ack) => ack.value)).toEqual(lines);
    const consumed = await runCli(['consume', '--topic', 'cli-bulk', '--from-beginning', '--format', 'json', '--broker', brokerUrl], 60_000);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { partition: number; offset: number; value: string });
    expect(records).toHaveLength(100_000);
    for (const partition of [0, 1, 2]) {
      const read = records.filter((r) => r.partition === partition);
      const acked = acks.filter((a) => a.partition === partition).sort((a, b) => a.offset - b.offset);
      expect(read.map((r) => [r.offset, r.value])).toEqual(acked.map((a) => [a.offset, a.value]));
    }
  });

  it('keeps a consumer group position across runs', async () => {
    await runCli(['topic', 'create', 'cli-group', '--broker', brokerUrl]);
    await runWithInput(['produce', '--topic', 'cli-group', '--broker', brokerUrl], 'one\ntwo\nthree\n');
    const first = await runCli(['consume', '--topic', 'cli-group', '--group', 'readers', '--from-beginning', '--max-records', '2', '--broker', brokerUrl]);
    expect(first.stdout).toBe('one\ntwo\n');
    const second = await runCli(['consume', '--topic', 'cli-group', '--group', 'readers', '--broker', brokerUrl]);
    expect(second.stdout).toBe('three\n');
    await runWithInput(['produce', '--topic', 'cli-group', '--broker', brokerUrl], 'four\n');
    const third = await runCli(['consume', '--topic', 'cli-group', '--group', 'readers', '--broker', brokerUrl]);
    expect(third.stdout).toBe('four\n');
  });

  it('exits 1 with a clear message when records cannot be acknowledged', async () => {
    const result = await runWithInput(['produce', '--topic', 'no-such-topic', '--acks', '1', '--broker', brokerUrl], 'x\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sluice produce: 1 of 1 records were not acknowledged/);
  });
});
