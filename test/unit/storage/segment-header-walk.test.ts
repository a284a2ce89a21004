import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatchHeader, stampBatch } from '../../../src/record/index.js';
import { walkVerifiedHeaders } from '../../../src/storage/segment-scanner.js';
import { mulberry32 } from '../../helpers/random.js';
import { makeBatch, makeTempDir } from '../../helpers/storage.js';

const SEED = 0x4ead_0001;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// Batches of seeded sizes, some far above the walk's small-batch threshold, back to back as a segment holds them.
async function segmentFile(): Promise<{ path: string; batches: Uint8Array[] }> {
  const { dir, cleanup } = await makeTempDir('sluice-header-walk-');
  cleanups.push(cleanup);
  const random = mulberry32(SEED);
  const batches: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < 60; i++) {
    const count = 1 + Math.floor(random() * 5);
    const valueBytes = random() < 0.3 ? 40_000 + Math.floor(random() * 60_000) : Math.floor(random() * 300);
    const batch = makeBatch(`b${i}`, count, valueBytes);
    stampBatch(batch, offset, 0);
    offset += count;
    batches.push(batch);
  }
  const path = join(dir, 'segment.log');
  await writeFile(path, Buffer.concat(batches));
  return { path, batches };
}

describe('walking the batch headers of verified segment bytes', () => {
  it('visits every batch, small ones read together and large ones stepped over', async () => {
    const { path, batches } = await segmentFile();
    const handle = await open(path, 'r');
    const seen: Array<[number, number]> = [];
    try {
      await walkVerifiedHeaders(handle, 0, batches.reduce((sum, batch) => sum + batch.length, 0), (header) => seen.push([header.baseOffset, header.recordCount]));
    } finally {
      await handle.close();
    }
    expect(seen).toEqual(batches.map((batch) => [decodeBatchHeader(batch).baseOffset, decodeBatchHeader(batch).recordCount]));
  });

  it('stops before a batch that runs past the end it was given', async () => {
    const { path, batches } = await segmentFile();
    const end = batches.slice(0, 10).reduce((sum, batch) => sum + batch.length, 0) + 30;
    const handle = await open(path, 'r');
    let visited = 0;
    try {
      await walkVerifiedHeaders(handle, 0, end, () => { visited += 1; });
    } finally {
      await handle.close();
    }
    expect(visited).toBe(10);
  });

  it('reads headers ahead at the starts it is told of, and visits the same batches when some of those are wrong', async () => {
    const { path, batches } = await segmentFile();
    const starts: number[] = [];
    let position = 0;
    for (const batch of batches) {
      starts.push(position);
      position += batch.length;
    }
    const expected = batches.map((batch) => [decodeBatchHeader(batch).baseOffset, decodeBatchHeader(batch).recordCount]);
    // Every start, then every third start plus positions inside batches (an index is only a hint).
    const hints = [starts, starts.flatMap((start, i) => (i % 3 === 0 ? [start, start + 7] : [])).concat(position + 100)];
    for (const knownStarts of hints) {
      const handle = await open(path, 'r');
      const seen: Array<[number, number]> = [];
      try {
        await walkVerifiedHeaders(handle, 0, position, (header) => seen.push([header.baseOffset, header.recordCount]), knownStarts.sort((a, b) => a - b));
      } finally {
        await handle.close();
      }
      expect(seen).toEqual(expected);
    }
  });
});
