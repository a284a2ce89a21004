import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stampBatch } from '../../../src/record/index.js';
import { scanSegment, type ScanStop } from '../../../src/storage/segment-scanner.js';
import { mulberry32 } from '../../helpers/random.js';
import { makeBatch, makeTempDir } from '../../helpers/storage.js';

const SEED = 0x5ca7_0001;
const BATCH_BYTES_MAX = 1024 * 1024;
/** Small chunks, so that batches straddle them and some are larger than one. */
const CHUNK_BYTES = 4096;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// Seeded batches back to back, sizes from under a chunk to several chunks; `edit` may change the bytes.
async function segmentFile(edit: (bytes: Buffer, starts: readonly number[]) => Buffer = (bytes) => bytes): Promise<{ path: string; starts: number[]; sizeBytes: number }> {
  const { dir, cleanup } = await makeTempDir('sluice-segment-scan-');
  cleanups.push(cleanup);
  const random = mulberry32(SEED);
  const batches: Uint8Array[] = [];
  const starts: number[] = [];
  let offset = 0;
  let position = 0;
  for (let i = 0; i < 80; i++) {
    const count = 1 + Math.floor(random() * 4);
    const batch = makeBatch(`s${i}`, count, random() < 0.2 ? 5_000 + Math.floor(random() * 15_000) : Math.floor(random() * 900));
    stampBatch(batch, offset, 0);
    offset += count;
    starts.push(position);
    position += batch.length;
    batches.push(batch);
  }
  const path = join(dir, 'segment.log');
  await writeFile(path, edit(Buffer.concat(batches), starts));
  return { path, starts, sizeBytes: position };
}

async function scan(path: string, from: number, end: number, stopAt = Number.POSITIVE_INFINITY): Promise<{ stop: ScanStop; visited: number[] }> {
  const handle = await open(path, 'r');
  const visited: number[] = [];
  try {
    const stop = await scanSegment(handle, from, end, BATCH_BYTES_MAX, (batch) => {
      if (batch.position >= stopAt) return 'stop';
      visited.push(batch.position);
      return 'continue';
    }, CHUNK_BYTES);
    return { stop, visited };
  } finally {
    await handle.close();
  }
}

describe('scanning a segment with reads ahead', () => {
  it('visits every batch once, in order, across chunk boundaries and batches larger than a chunk', async () => {
    const { path, starts, sizeBytes } = await segmentFile();
    const { stop, visited } = await scan(path, 0, sizeBytes);
    expect(stop).toEqual({ kind: 'end', position: sizeBytes });
    expect(visited).toEqual(starts);
  });

  it('starts at a batch in the middle', async () => {
    const { path, starts, sizeBytes } = await segmentFile();
    const { stop, visited } = await scan(path, starts[37]!, sizeBytes);
    expect(stop.kind).toBe('end');
    expect(visited).toEqual(starts.slice(37));
  });

  it('says torn at the start of a batch cut short by the end it was given', async () => {
    const { path, starts } = await segmentFile();
    const { stop, visited } = await scan(path, 0, starts[50]! + 30);
    expect(stop).toMatchObject({ kind: 'torn', position: starts[50] });
    expect(visited).toEqual(starts.slice(0, 50));
  });

  it('says torn after the last whole batch when the file is shorter than the end it was given', async () => {
    const { path, starts, sizeBytes } = await segmentFile((bytes, at) => bytes.subarray(0, at[61]! + 100));
    const { stop, visited } = await scan(path, 0, sizeBytes);
    expect(stop).toMatchObject({ kind: 'torn', position: starts[61] });
    expect(visited).toEqual(starts.slice(0, 61));
  });

  it('says corrupt at a batch whose CRC does not match, having visited those before it', async () => {
    const { path, starts, sizeBytes } = await segmentFile();
    const damaged = await segmentFile((bytes, at) => {
      const copy = Buffer.from(bytes);
      copy[at[44]! + 70]! ^= 0xff;
      return copy;
    });
    const { stop, visited } = await scan(damaged.path, 0, sizeBytes);
    expect(stop).toMatchObject({ kind: 'corrupt', position: starts[44] });
    expect(visited).toEqual(starts.slice(0, 44));
    expect((await scan(path, 0, sizeBytes)).stop.kind).toBe('end');
  });

  it('stops where the visitor says, before that batch', async () => {
    const { path, starts, sizeBytes } = await segmentFile();
    const { stop, visited } = await scan(path, 0, sizeBytes, starts[20]!);
    expect(stop).toEqual({ kind: 'stopped', position: starts[20] });
    expect(visited).toEqual(starts.slice(0, 20));
  });
});
