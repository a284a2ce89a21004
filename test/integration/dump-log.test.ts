import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/process.js';
import { makeBatch, makeTempDir, openLog } from '../helpers/storage.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// Thirty 3-record batches of ~3 KiB: SMALL_LOG_CONFIG rolls at 16 KiB, so several segments.
async function writeLog(): Promise<{ dir: string; batchBytes: number }> {
  const { dir, cleanup } = await makeTempDir('sluice-dump-');
  cleanups.push(cleanup);
  const log = await openLog(dir);
  let batchBytes = 0;
  for (let i = 0; i < 30; i++) {
    const batch = makeBatch(`b${i}`, 3, 1000);
    batchBytes = batch.length;
    await log.append(batch);
  }
  await log.close();
  return { dir, batchBytes };
}

describe('sluice dump-log', () => {
  it('prints one line per batch and a summary, and --verify passes on a healthy log', async () => {
    const { dir } = await writeLog();
    const result = await runCli(['dump-log', dir, '--verify']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(31);
    expect(lines[0]).toMatch(/^offsets 0\.\.2 count 3 position 0 size \d+ epoch 0 time \d+\.\.\d+ producer none crc [0-9a-f]{8} ok$/);
    expect(lines[30]).toMatch(/^segments \d+ batches 30 records 90 offsets \[0, 90\) problems 0$/);
  });

  it('prints JSON objects with --json and records with --records', async () => {
    const { dir } = await writeLog();
    const result = await runCli(['dump-log', dir, '--json', '--records']);
    const objects = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const batches = objects.filter((object) => 'baseOffset' in object);
    expect(batches).toHaveLength(30);
    expect(batches[29]).toMatchObject({ baseOffset: 87, lastOffset: 89, recordCount: 3, crcOk: true, producerId: null });
    const records = objects.filter((object) => 'record' in object).map((object) => object.record as { offset: number; value: string });
    expect(records.map((record) => record.offset)).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(records[4]!.value.startsWith('b1-1')).toBe(true);
  });

  it('exits 1 under --verify when a byte inside a batch is flipped', async () => {
    const { dir, batchBytes } = await writeLog();
    const handle = await open(join(dir, '00000000000000000000.log'), 'r+');
    await handle.write(Buffer.from([0x5a]), 0, 1, batchBytes + 100);
    await handle.close();
    const result = await runCli(['dump-log', dir, '--verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('CRC-32C mismatch');
    const unverified = await runCli(['dump-log', dir]);
    expect(unverified.code).toBe(0);
  });

  it('exits 1 under --verify on a torn tail', async () => {
    const { dir } = await writeLog();
    const handle = await open(join(dir, '00000000000000000000.log'), 'r+');
    const { size } = await handle.stat();
    await handle.truncate(size - 7);
    await handle.close();
    const result = await runCli(['dump-log', dir, '--verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/PROBLEM segment 0 position \d+: torn/);
  });
});
