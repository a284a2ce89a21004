import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startBroker(dataDir: string): Promise<{ broker: CliProcess; port: number }> {
  const broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
  const port = (await broker.waitForLog('broker started')).port as number;
  return { broker, port };
}

describe('committed consumer offsets', () => {
  it('are durable when acknowledged: a commit survives SIGKILL of the broker', async () => {
    const { dir, cleanup } = await makeTempDir('sluice-offsets-');
    cleanups.push(cleanup);
    const first = await startBroker(dir);
    const client = await WireClient.ready(first.port);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    if (metadata.headerOnly) throw new Error('header-only');
    expect(metadata.topics.map((t) => t.name)).toContain('__consumer_offsets');

    const commit = async (group: string, offset: number) => client.request(ApiKey.OffsetCommit, {
      group, generationId: -1, memberId: '', offsets: [{ topic: 'orders', partition: 0, offset, metadata: `at ${offset}` }, { topic: 'orders', partition: 1, offset: offset * 2, metadata: null }],
    });
    for (let i = 1; i <= 20; i++) {
      const response = await commit(`group-${i % 4}`, i);
      if (response.headerOnly) throw new Error('header-only');
      expect(response.results.map((r) => r.errorCode)).toEqual([0, 0]);
    }
    const stale = await client.request(ApiKey.OffsetCommit, { group: 'group-1', generationId: 3, memberId: 'm', offsets: [{ topic: 'orders', partition: 0, offset: 999, metadata: null }] });
    if (stale.headerOnly) throw new Error('header-only');
    expect(stale.results[0]!.errorCode).toBe(ERROR_CODES.ILLEGAL_GENERATION.code);
    client.close();
    expect(await first.broker.stop('SIGKILL')).toBeNull();

    const second = await startBroker(dir);
    const reader = await WireClient.ready(second.port);
    const fetched = await reader.request(ApiKey.OffsetFetch, { group: 'group-1', partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }, { topic: 'orders', partition: 2 }] });
    if (fetched.headerOnly) throw new Error('header-only');
    // group-1 got commits 1, 5, 9, 13, 17: the last one wins.
    expect(fetched.results.map((r) => [r.found, r.offset, r.metadata])).toEqual([[true, 17, 'at 17'], [true, 34, null], [false, -1, null]]);
    const unknown = await reader.request(ApiKey.OffsetFetch, { group: 'nobody', partitions: [{ topic: 'orders', partition: 0 }] });
    if (unknown.headerOnly) throw new Error('header-only');
    expect(unknown.results[0]!.found).toBe(false);
    reader.close();
    expect(await second.broker.stop()).toBe(0);
  });

  it('refuses to delete the internal offsets topic', async () => {
    const { dir, cleanup } = await makeTempDir('sluice-offsets-');
    cleanups.push(cleanup);
    const { broker, port } = await startBroker(dir);
    const client = await WireClient.ready(port);
    const response = await client.request(ApiKey.DeleteTopics, { names: ['__consumer_offsets'] });
    if (response.headerOnly) throw new Error('header-only');
    expect(response.results[0]!.errorCode).toBe(ERROR_CODES.INVALID_TOPIC_EXCEPTION.code);
    client.close();
    expect(await broker.stop()).toBe(0);
  });
});
