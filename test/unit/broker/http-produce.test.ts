import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../src/client/murmur2.js';
import { assignPartitions, encodeBatches } from '../../../src/broker/http/produce-batches.js';
import { decodeProduceBody, parseValueEncoding, type ProduceRecordInput } from '../../../src/broker/http/produce-body.js';
import { SluiceError } from '../../../src/errors/sluice-error.js';
import { BATCH_HEADER_BYTES, decodeRecords, type Record } from '../../../src/record/index.js';
import { errorNameOf } from '../../helpers/errors.js';
import { mulberry32 } from '../../helpers/random.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function invalidRequest(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).errorName).toBe('INVALID_REQUEST');
    return (error as SluiceError).message;
  }
  throw new Error('expected INVALID_REQUEST');
}

function batchesIn(bytes: Uint8Array): Uint8Array[] {
  const batches: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = new DataView(bytes.buffer, bytes.byteOffset + at).getInt32(8) + 12;
    batches.push(bytes.subarray(at, at + size));
    at += size;
  }
  return batches;
}

describe('Kafka murmur2 partitioning of HTTP keys', () => {
  it('hashes the test vectors of Kafka\'s UtilsTest.testMurmur2', () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(encoder.encode(key)), key).toBe(hash);
  });

  it('puts a key where toPositive(murmur2) % partitionCount says, as a Kafka producer would', () => {
    // murmur2("foobar") = -790332482; with the sign bit cleared 1357151166; mod 7 = 2.
    expect(partitionForKey(encoder.encode('foobar'), 7)).toBe(1357151166 % 7);
    const [group] = assignPartitions([{ key: encoder.encode('foobar'), value: null, headers: [], partition: null }], 7, 0, 1);
    expect(group!.partition).toBe(1357151166 % 7);
  });
});

describe('decoding an HTTP produce body', () => {
  it('turns UTF-8 strings into bytes and keeps absent and null apart from empty', () => {
    const [a, b] = decodeProduceBody({ records: [
      { key: 'k', value: 'héllo', headers: { trace: 'x', empty: '' }, partition: 2 },
      { value: null },
    ] }, 'utf8');
    expect(decoder.decode(a!.key!)).toBe('k');
    expect(decoder.decode(a!.value!)).toBe('héllo');
    expect(a!.headers.map((h) => [h.key, decoder.decode(h.value!)])).toEqual([['trace', 'x'], ['empty', '']]);
    expect(a!.partition).toBe(2);
    expect(b).toEqual({ key: null, value: null, headers: [], partition: null });
  });

  it('accepts headers as a list, which may repeat a name and carry null values', () => {
    const [record] = decodeProduceBody({ records: [{ value: 'v', headers: [{ key: 'h', value: '1' }, { key: 'h', value: null }] }] }, 'utf8');
    expect(record!.headers.map((h) => h.key)).toEqual(['h', 'h']);
    expect(record!.headers[1]!.value).toBeNull();
  });

  it('decodes base64 exactly, and refuses what is not base64', () => {
    const [record] = decodeProduceBody({ records: [{ key: 'AAH/', value: '' }] }, 'base64');
    expect([...record!.key!]).toEqual([0, 1, 255]);
    expect(record!.value!.length).toBe(0);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'AAH' }] }, 'base64'))).toMatch(/records\[0\]\.value is not base64/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'a b=' }] }, 'base64'))).toMatch(/not base64/);
  });

  it('names the field that is wrong', () => {
    expect(invalidRequest(() => decodeProduceBody([], 'utf8'))).toMatch(/"records" array/);
    expect(invalidRequest(() => decodeProduceBody({ records: [] }, 'utf8'))).toMatch(/empty/);
    expect(invalidRequest(() => decodeProduceBody({ records: [], extra: 1 }, 'utf8'))).toMatch(/unknown field "extra"/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ key: 'k' }] }, 'utf8'))).toMatch(/records\[0\]\.value is missing/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v' }, { value: 3 }] }, 'utf8'))).toMatch(/records\[1\]\.value must be a string or null/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v', valu: 'typo' }] }, 'utf8'))).toMatch(/unknown field "valu"/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v', partition: 1.5 }] }, 'utf8'))).toMatch(/partition must be a non-negative integer/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v', partition: -1 }] }, 'utf8'))).toMatch(/partition/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v', headers: 'h' }] }, 'utf8'))).toMatch(/headers must be/);
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'v', headers: { h: 1 } }] }, 'utf8'))).toMatch(/headers\.h must be a string/);
  });

  it('refuses an unpaired surrogate, which UTF-8 cannot carry, but keeps a paired one', () => {
    expect(invalidRequest(() => decodeProduceBody({ records: [{ value: 'a\ud800b' }] }, 'utf8'))).toMatch(/unpaired surrogate/);
    const [record] = decodeProduceBody({ records: [{ value: '😀' }] }, 'utf8');
    expect(decoder.decode(record!.value!)).toBe('😀');
  });

  it('reads ?encoding= as utf8 by default, or base64', () => {
    expect(parseValueEncoding(null)).toBe('utf8');
    expect(parseValueEncoding('utf8')).toBe('utf8');
    expect(parseValueEncoding('base64')).toBe('base64');
    expect(invalidRequest(() => parseValueEncoding('hex'))).toMatch(/use utf8 or base64/);
  });
});

describe('assigning partitions to HTTP records', () => {
  const input = (key: string | null, partition: number | null = null): ProduceRecordInput =>
    ({ key: key === null ? null : encoder.encode(key), value: encoder.encode('v'), headers: [], partition });

  it('sends unkeyed records of one request together to the partition the caller rotates to', () => {
    const groups = assignPartitions([input(null), input(null), input(null)], 4, 3, 1000);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.partition).toBe(3);
    expect(groups[0]!.indexes).toEqual([0, 1, 2]);
    expect(groups[0]!.records.every((record) => record.timestamp === 1000)).toBe(true);
  });

  it('keeps the request position of every record and lets an explicit partition win over the key', () => {
    const keyed = partitionForKey(encoder.encode('k'), 3);
    const other = (keyed + 1) % 3;
    const groups = assignPartitions([input('k'), input('k', other), input('k')], 3, 0, 1);
    const byPartition = new Map(groups.map((group) => [group.partition, group.indexes]));
    expect(byPartition.get(keyed)).toEqual([0, 2]);
    expect(byPartition.get(other)).toEqual([1]);
  });

  it('refuses a partition the topic does not have', () => {
    expect(() => assignPartitions([input(null, 3)], 3, 0, 1)).toThrow(/records\[0\]\.partition 3: the topic has 3 partitions/);
  });
});

describe('encoding HTTP records into batches', () => {
  const record = (value: Uint8Array, headers: Record['headers'] = []): Record => ({ key: null, value, headers, timestamp: 1_700_000_000_000 });

  it('packs records into batches of at most batchBytesMax and keeps every record, in order (seeded)', () => {
    const random = mulberry32(5);
    for (let round = 0; round < 50; round++) {
      const batchBytesMax = 200 + Math.floor(random() * 2000);
      const records = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => record(encoder.encode(`${i}:`.padEnd(Math.floor(random() * 120), 'x')), i % 3 === 0 ? [{ key: 'h', value: encoder.encode('y') }] : []));
      const bytes = encodeBatches(records, batchBytesMax);
      const batches = batchesIn(bytes);
      for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(batchBytesMax);
      const decoded = batches.flatMap((batch) => decodeRecords(batch));
      expect(decoded.map((r) => decoder.decode(r.value!))).toEqual(records.map((r) => decoder.decode(r.value!)));
      expect(decoded.map((r) => r.headers.length)).toEqual(records.map((r) => r.headers.length));
    }
  });

  it('puts everything in one batch when it fits', () => {
    const bytes = encodeBatches([record(encoder.encode('a')), record(encoder.encode('b'))], 1024 * 1024);
    expect(batchesIn(bytes)).toHaveLength(1);
  });

  it('accepts a record whose batch is exactly batchBytesMax and refuses one byte more as MESSAGE_TOO_LARGE', () => {
    const exact = encodeBatches([record(new Uint8Array(100))], 1024 * 1024).length;
    expect(encodeBatches([record(new Uint8Array(100))], exact).length).toBe(exact);
    expect(() => encodeBatches([record(new Uint8Array(101))], exact)).toThrow(/more than batchBytesMax/);
    expect(errorNameOf(() => encodeBatches([record(new Uint8Array(101))], exact))).toBe('MESSAGE_TOO_LARGE');
    expect(exact).toBeGreaterThan(BATCH_HEADER_BYTES + 100);
  });
});
