import { afterEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../../../src/errors/index.js';
import { encodeRecordBatch, type ProducerInfo } from '../../../src/record/index.js';
import { ProducerStateTable, lastSequenceOf } from '../../../src/storage/producer-state.js';
import { makeTempDir, openLog } from '../../helpers/storage.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const encoder = new TextEncoder();

function producerBatch(producerId: bigint, producerEpoch: number, baseSequence: number, count: number): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: encoder.encode(`p${producerId}-s${baseSequence + i}`), headers: [], timestamp: 1_700_000_000_000 }));
  return encodeRecordBatch({ records, producer: { producerId, producerEpoch, baseSequence } });
}

async function errorNameOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (isSluiceError(error)) return error.errorName;
    throw error;
  }
}

async function tempLogDir(): Promise<string> {
  const { dir, cleanup } = await makeTempDir('sluice-idempotent-');
  cleanups.push(cleanup);
  return dir;
}

describe('idempotent appends', () => {
  it('answers a retried batch with its original offsets and writes it only once', async () => {
    const log = await openLog(await tempLogDir());
    const first = await log.append(producerBatch(7n, 0, 0, 3));
    const second = await log.append(producerBatch(7n, 0, 3, 2));
    const retry = await log.append(producerBatch(7n, 0, 0, 3));
    expect(first).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(second).toEqual({ baseOffset: 3, lastOffset: 4, duplicate: false });
    expect(retry).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: true });
    expect(log.logEndOffset).toBe(5);
    await log.close();
  });

  it('recognises a retry that arrives while the original is still waiting for its fsync', async () => {
    const log = await openLog(await tempLogDir());
    const [original, retry] = await Promise.all([log.append(producerBatch(9n, 0, 0, 2)), log.append(producerBatch(9n, 0, 0, 2))]);
    expect(original.duplicate).toBe(false);
    expect(retry).toEqual({ baseOffset: original.baseOffset, lastOffset: original.lastOffset, duplicate: true });
    expect(log.logEndOffset).toBe(2);
    await log.close();
  });

  it('refuses a sequence gap, an old epoch, an unknown producer not starting at 0, and writes none of them', async () => {
    const log = await openLog(await tempLogDir());
    await log.append(producerBatch(1n, 2, 0, 2));
    expect(await errorNameOf(log.append(producerBatch(1n, 2, 5, 1)))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(await errorNameOf(log.append(producerBatch(1n, 1, 2, 1)))).toBe('INVALID_PRODUCER_EPOCH');
    expect(await errorNameOf(log.append(producerBatch(2n, 0, 4, 1)))).toBe('UNKNOWN_PRODUCER_ID');
    expect(await errorNameOf(log.append(producerBatch(1n, 3, 1, 1)))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(log.logEndOffset).toBe(2);
    expect((await log.append(producerBatch(1n, 3, 0, 1))).baseOffset).toBe(2);
    await log.close();
  });

  it('refuses a whole multi-batch append when a later batch breaks the sequence', async () => {
    const log = await openLog(await tempLogDir());
    const outcome = log.appendBatches([producerBatch(4n, 0, 0, 2), producerBatch(4n, 0, 2, 2), producerBatch(4n, 0, 9, 1)]);
    expect(await errorNameOf(outcome)).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(log.logEndOffset).toBe(0);
    await log.close();
  });

  it('rebuilds producer state from the log at open, so a retry after a restart is still recognised', async () => {
    const dir = await tempLogDir();
    const log = await openLog(dir);
    await log.append(producerBatch(5n, 0, 0, 4));
    await log.append(producerBatch(5n, 0, 4, 4));
    await log.close();
    const reopened = await openLog(dir);
    expect(await reopened.append(producerBatch(5n, 0, 4, 4))).toEqual({ baseOffset: 4, lastOffset: 7, duplicate: true });
    expect((await reopened.append(producerBatch(5n, 0, 8, 1))).baseOffset).toBe(8);
    await reopened.close();
  });

  it('forgets producer batches cut off by truncation', async () => {
    const log = await openLog(await tempLogDir());
    await log.append(producerBatch(6n, 0, 0, 2));
    await log.append(producerBatch(6n, 0, 2, 2));
    await log.truncateTo(2);
    expect(await log.append(producerBatch(6n, 0, 2, 2))).toEqual({ baseOffset: 2, lastOffset: 3, duplicate: false });
    await log.close();
  });
});

describe('producer sequence arithmetic', () => {
  it('wraps the last sequence at 2^31 as Kafka does', () => {
    expect(lastSequenceOf(0, 1)).toBe(0);
    expect(lastSequenceOf(2 ** 31 - 2, 3)).toBe(0);
  });

  it('keeps only the last five batches of a producer for duplicate detection', () => {
    const table = new ProducerStateTable();
    const producer = (baseSequence: number): ProducerInfo => ({ producerId: 1n, producerEpoch: 0, baseSequence });
    for (let i = 0; i < 7; i++) table.record(producer(i), 1, { baseOffset: i, lastOffset: i, durable: Promise.resolve() });
    expect(table.checkAll([{ producer: producer(2), recordCount: 1 }])[0]!.kind).toBe('duplicate');
    expect(() => table.checkAll([{ producer: producer(1), recordCount: 1 }])).toThrow(/no longer remembered/);
  });
});
