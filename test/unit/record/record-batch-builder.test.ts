import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, decodeBatchHeader, decodeRecords, recordBytesBound, type RecordHeaderInput } from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';

const utf8 = new TextEncoder();
const SEED = 0xb17d_0001;
const ALPHABET = ['a', 'Z', '7', 'é', 'ß', '€', '中', '😀'];

function randomString(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  return text;
}

describe('the record batch builder', () => {
  it('writes strings as their UTF-8 bytes, whatever their length prefix turns out to be', () => {
    const random = mulberry32(SEED);
    for (let round = 0; round < 40; round++) {
      const builder = new RecordBatchBuilder(64);
      const expected: Array<{ key: Uint8Array | null; value: Uint8Array | null; headers: Array<{ key: string; value: Uint8Array | null }>; timestamp: number }> = [];
      const count = 1 + Math.floor(random() * 30);
      let boundSum = 61;
      for (let i = 0; i < count; i++) {
        // Lengths around 42 and 64 UTF-16 units cross the 1- to 2-byte varint boundary between the bound and the real size.
        const valueLength = [0, 21, 42, 43, 63, 64, 65, 3000][Math.floor(random() * 8)]!;
        const asString = random() < 0.6;
        const valueText = randomString(random, valueLength);
        const value = random() < 0.1 ? null : asString ? valueText : utf8.encode(valueText);
        const key = random() < 0.5 ? null : randomString(random, Math.floor(random() * 50));
        const headers: RecordHeaderInput[] = Array.from({ length: Math.floor(random() * 3) }, (_, h) => ({ key: `h${h}-${randomString(random, 3)}`, value: random() < 0.3 ? null : randomString(random, 5) }));
        const timestamp = 1_700_000_000_000 + Math.floor(random() * 1e6) - 5e5;
        boundSum += recordBytesBound(key, value, headers);
        builder.append(timestamp, key, value, headers);
        const bytes = (field: Uint8Array | string | null): Uint8Array | null => (field === null ? null : typeof field === 'string' ? utf8.encode(field) : field);
        expected.push({ key: bytes(key), value: bytes(value), headers: headers.map((header) => ({ key: header.key, value: bytes(header.value) })), timestamp });
      }
      const batch = builder.build({ baseOffset: 10 });
      expect(batch.length).toBeLessThanOrEqual(boundSum);
      expect(decodeBatchHeader(batch).recordCount).toBe(count);
      const decoded = decodeRecords(batch);
      expect(decoded.map((record) => ({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp }))).toEqual(expected);
      expect(decoded.map((record) => record.offset)).toEqual(Array.from({ length: count }, (_, i) => 10 + i));
    }
  });

  it('builds again with a new producer id over the same records, with a fresh CRC', () => {
    const builder = new RecordBatchBuilder();
    builder.append(1_700_000_000_000, null, 'one');
    builder.append(1_700_000_000_001, 'k', 'two');
    const first = Uint8Array.from(builder.build({ producer: { producerId: 7n, producerEpoch: 0, baseSequence: 0 } }));
    const second = builder.build({ producer: { producerId: 8n, producerEpoch: 1, baseSequence: 5 } });
    expect(decodeBatchHeader(second).producer).toEqual({ producerId: 8n, producerEpoch: 1, baseSequence: 5 });
    expect(decodeRecords(second).map((record) => new TextDecoder().decode(record.value!))).toEqual(['one', 'two']);
    expect(decodeRecords(first).map((record) => new TextDecoder().decode(record.value!))).toEqual(['one', 'two']);
  });
});
