import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_BODY_DISCARD_MS } from '../../src/broker/http/bounded-body.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { call, dumpBatchSizes, postDeclaringHugeBody } from './http-helpers.js';

// Small limits, so the boundaries are cheap to reach.
const HTTP_BODY_BYTES_MAX = 2048;
const BATCH_BYTES_MAX = 512;

let broker: CliProcess;
let port: number;
let dataDir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-http-limits-'));
  broker = CliProcess.start([
    'broker', '--port', '0', '--data-dir', dataDir,
    '--http-body-bytes-max', String(HTTP_BODY_BYTES_MAX), '--batch-bytes-max', String(BATCH_BYTES_MAX),
  ]);
  port = (await broker.waitForLog('broker started')).port as number;
  expect((await call(port, 'POST', '/v1/topics', { name: 'limits', partitions: 1 })).status).toBe(201);
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** A produce body of exactly `sizeBytes` bytes: valid JSON padded with trailing spaces. */
function bodyOfSize(sizeBytes: number): string {
  const json = JSON.stringify({ records: [{ value: 'padded' }] });
  return json.padEnd(sizeBytes, ' ');
}

async function logEndOffset(): Promise<number> {
  return (await call(port, 'GET', '/v1/topics/limits')).json.partitions[0].logEndOffset;
}

describe('limits of the HTTP API', () => {
  it('accepts a body of exactly httpBodyBytesMax and refuses one byte more with 413 BODY_TOO_LARGE', async () => {
    expect(await call(port, 'POST', '/v1/topics/limits/records', bodyOfSize(HTTP_BODY_BYTES_MAX))).toMatchObject({ status: 200 });
    const before = await logEndOffset();
    expect(await call(port, 'POST', '/v1/topics/limits/records', bodyOfSize(HTTP_BODY_BYTES_MAX + 1))).toMatchObject({ status: 413, json: { error: 'BODY_TOO_LARGE' } });
    expect(await logEndOffset()).toBe(before);
  });

  it('refuses a huge body, declared or streamed, without reading it all, and stays up', async () => {
    // 64 MiB sent in full by fetch, which reads the 413 when it comes.
    const big = await call(port, 'POST', '/v1/topics/limits/records', new Uint8Array(64 * 1024 * 1024));
    expect(big).toMatchObject({ status: 413, json: { error: 'BODY_TOO_LARGE' } });
    // Chunked, with no length to check up front: refused once it passes the limit.
    let sentBytes = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sentBytes >= 16 * 1024 * 1024) return controller.close();
        sentBytes += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const streamed = await fetch(`http://127.0.0.1:${port}/v1/topics/limits/records`, { method: 'POST', body: stream, duplex: 'half', signal: AbortSignal.timeout(15_000) } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error).toBe('BODY_TOO_LARGE');
    // A client that declares 1 GiB and then stalls is answered at once and cut off soon after.
    const stalled = await postDeclaringHugeBody(port, '/v1/topics/limits/records', 1024 ** 3, REFUSED_BODY_DISCARD_MS + 5_000);
    expect(stalled.status).toBe(413);
    expect(stalled.closedAfterMs).not.toBeNull();
    expect(stalled.closedAfterMs!).toBeLessThan(REFUSED_BODY_DISCARD_MS + 2_000);
    expect(await call(port, 'GET', '/healthz')).toMatchObject({ status: 200 });
  });

  it('drops the unread body of a request refused before its body was needed, within the same bound', async () => {
    const refused = await postDeclaringHugeBody(port, '/v1/topics/missing/records', 1024 ** 3, REFUSED_BODY_DISCARD_MS + 5_000);
    expect(refused.status).toBe(404);
    expect(refused.closedAfterMs).not.toBeNull();
    expect(refused.closedAfterMs!).toBeLessThan(REFUSED_BODY_DISCARD_MS + 2_000);
    // A small body that is sent whole leaves the connection usable: the answer is the usual one.
    expect(await call(port, 'POST', '/v1/nowhere', { records: [] })).toMatchObject({ status: 404, json: { error: 'NOT_FOUND' } });
    expect(await call(port, 'GET', '/healthz')).toMatchObject({ status: 200 });
  });

  it('splits one request\'s records into batches of at most batchBytesMax, with contiguous offsets', async () => {
    const start = await logEndOffset();
    const records = Array.from({ length: 12 }, (_, i) => ({ value: `${i}`.padEnd(100, '-') }));
    const produced = await call(port, 'POST', '/v1/topics/limits/records', { records });
    expect(produced.status).toBe(200);
    expect(produced.json.offsets.map((placement: { offset: number }) => placement.offset)).toEqual(records.map((_, i) => start + i));
    const sizes = await dumpBatchSizes(dataDir, 'limits-0');
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BATCH_BYTES_MAX);
    const read = await call(port, 'GET', `/v1/topics/limits/partitions/0/records?offset=${start}&maxBytes=${1024 * 1024}`);
    expect(read.json.records.map((r: { value: string }) => r.value)).toEqual(records.map((r) => r.value));
  });

  it('refuses a record too large for any batch with 413 MESSAGE_TOO_LARGE and writes none of the request', async () => {
    const before = await logEndOffset();
    const answer = await call(port, 'POST', '/v1/topics/limits/records', { records: [{ value: 'small' }, { value: 'x'.repeat(BATCH_BYTES_MAX) }] });
    expect(answer).toMatchObject({ status: 413, json: { error: 'MESSAGE_TOO_LARGE' } });
    expect(await logEndOffset()).toBe(before);
  });
});
