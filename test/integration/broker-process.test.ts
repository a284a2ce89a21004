import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBatch, makeTempDir, openLog } from '../helpers/storage.js';
import { CliProcess, runCli } from '../helpers/process.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const { dir, cleanup } = await makeTempDir('sluice-broker-');
  cleanups.push(cleanup);
  return dir;
}

describe('the broker process', () => {
  it('starts on an empty data directory and writes meta.properties and checkpoints on SIGTERM', async () => {
    const dataDir = await tempDir();
    const broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
    const started = await broker.waitForLog('broker started');
    expect(started.brokerId).toBe(0);
    expect(started.addons).toEqual({ crc32c: 'native', websocketMasking: 'native' });
    expect(started.port).toBeGreaterThan(0);
    expect(await broker.stop('SIGTERM')).toBe(0);
    expect(await readFile(join(dataDir, 'meta.properties'), 'utf8')).toMatch(/^version=1\nbroker\.id=0\ncluster\.id=.+\n$/);
    // The only partitions of a fresh broker are those of the internal offsets topic, all empty.
    const offsetsPartitions = Array.from({ length: 8 }, (_, partition) => `__consumer_offsets ${partition} 0\n`).join('');
    expect(await readFile(join(dataDir, 'recovery-point-offset-checkpoint'), 'utf8')).toBe(`0\n8\n${offsetsPartitions}`);
  });

  it('recovers existing partitions at start and, after a clean stop, re-reads only the last batch', async () => {
    const dataDir = await tempDir();
    await mkdir(join(dataDir, 'orders-0'));
    const log = await openLog(join(dataDir, 'orders-0'));
    let lastBatchBytes = 0;
    for (let i = 0; i < 50; i++) {
      const batch = makeBatch(`b${i}`, 5);
      lastBatchBytes = batch.length;
      await log.append(batch);
    }
    await log.close(); // no checkpoint file: the broker must scan the whole log
    const first = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir, '--segment-bytes', '16384']);
    const firstLoad = await first.waitForLog('partition log loaded', 15_000, { topic: 'orders' });
    expect(firstLoad).toMatchObject({ topic: 'orders', partition: 0, logEndOffset: 250, bytesTruncated: 0 });
    expect(firstLoad.bytesScanned).toBeGreaterThan(lastBatchBytes);
    expect(await first.stop('SIGINT')).toBe(0);

    const second = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir, '--segment-bytes', '16384']);
    const secondLoad = await second.waitForLog('partition log loaded', 15_000, { topic: 'orders' });
    expect(secondLoad).toMatchObject({ logEndOffset: 250, bytesScanned: lastBatchBytes });
    expect(await second.stop()).toBe(0);
  });

  it('stops cleanly, writing checkpoints, when SIGTERM arrives while it is still recovering', async () => {
    const dataDir = await tempDir();
    for (const partition of [0, 1, 2]) {
      await mkdir(join(dataDir, `orders-${partition}`));
      const log = await openLog(join(dataDir, `orders-${partition}`));
      for (let i = 0; i < 20; i++) await log.append(makeBatch(`p${partition}-${i}`, 5));
      await log.close();
    }
    const broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
    await broker.waitForLog('partition log loaded');
    expect(await broker.stop('SIGTERM')).toBe(0);
    await broker.waitForLog('broker stopped cleanly');
    const checkpoint = (await readFile(join(dataDir, 'recovery-point-offset-checkpoint'), 'utf8')).split('\n');
    expect(checkpoint.filter((line) => line.startsWith('orders '))).toEqual(['orders 0 100', 'orders 1 100', 'orders 2 100']);
  });

  it('refuses a data directory that belongs to another broker id', async () => {
    const dataDir = await tempDir();
    const broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir, '--broker-id', '1']);
    await broker.waitForLog('broker started');
    expect(await broker.stop()).toBe(0);
    const other = await runCli(['broker', '--port', '0', '--data-dir', dataDir, '--broker-id', '2']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('belongs to broker 1, not broker 2');
  });

  it('exits with code 2 and names the setting when the configuration is invalid', async () => {
    const result = await runCli(['broker', '--port', '0', '--data-dir', await tempDir(), '--index-interval-bytes', '-5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('indexIntervalBytes (from command line)');
  });
});
