import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import {
  ATTRIBUTES_POSITION, BASE_TIMESTAMP_POSITION, BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION,
  CRC_POSITION, LAST_OFFSET_DELTA_POSITION, MAGIC_POSITION, MAX_TIMESTAMP_POSITION,
  PARTITION_LEADER_EPOCH_POSITION, RECORD_COUNT_POSITION, checkBatchFraming, crc32c,
  decodeRecords, encodeRecordBatch, readVarint, readVarlong, validateProducedBatch, writeVarint,
  type Record as BatchRecord, type VarintRead,
} from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { errorNameOf } from '../../helpers/errors.js';

const SEED = 0xf022_0001;
const FUZZ_CASES = 2_000;
/** Far above what one case of a few hundred bytes needs; a case slower than this is a hang. */
const BATCH_BYTES_MAX = 1024 * 1024;
const TIMESTAMP_MS = 1_700_000_000_000;

const utf8 = new TextEncoder();

/** A small batch with every kind of field: null, empty and non-empty keys, values and headers. */
const FIXED_RECORDS: readonly BatchRecord[] = [
  { key: utf8.encode('k0'), value: utf8.encode('value-0'), headers: [{ key: 'h', value: utf8.encode('x') }, { key: '', value: null }], timestamp: TIMESTAMP_MS },
  { key: null, value: utf8.encode('value-1'), headers: [], timestamp: TIMESTAMP_MS - 5 },
  { key: new Uint8Array(0), value: null, headers: [{ key: 'h', value: utf8.encode('y') }], timestamp: TIMESTAMP_MS + 10 },
];

function fixedBatch(): Uint8Array {
  return encodeRecordBatch({ records: FIXED_RECORDS, producer: { producerId: 7n, producerEpoch: 1, baseSequence: 0 } });
}


function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Recomputes the CRC-32C over [21, end), as a careful attacker or a buggy client would. */
function resealCrc(batch: Uint8Array): Uint8Array {
  view(batch).setUint32(CRC_POSITION, crc32c(batch.subarray(ATTRIBUTES_POSITION)));
  return batch;
}

/** Sets batchLength to what the bytes hold, then reseals the CRC. */
function reframe(batch: Uint8Array): Uint8Array {
  view(batch).setInt32(BATCH_LENGTH_POSITION, batch.length - 12);
  return resealCrc(batch);
}


function validationError(batch: Uint8Array, batchBytesMax = BATCH_BYTES_MAX): string | undefined {
  return errorNameOf(() => validateProducedBatch(batch, batchBytesMax));
}

/** `errorName: message` of the SluiceError validation throws, or undefined. */
function validationMessage(batch: Uint8Array): string | undefined {
  try {
    validateProducedBatch(batch, BATCH_BYTES_MAX);
    return undefined;
  } catch (error) {
    if (error instanceof SluiceError) return `${error.errorName}: ${error.message}`;
    throw error;
  }
}

/** A copy of `batch` with the varint at `start` replaced by `value`; later bytes shift if its size changes. */
function replaceVarint(batch: Uint8Array, start: number, value: number): Uint8Array {
  const old = readVarint(batch, start);
  if (!old.ok) throw new Error(`test bug: no varint at ${start}`);
  const varintBytes = new Uint8Array(5);
  const size = writeVarint(varintBytes, 0, value);
  const copy = new Uint8Array(batch.length - (old.next - start) + size);
  copy.set(batch.subarray(0, start));
  copy.set(varintBytes.subarray(0, size), start);
  copy.set(batch.subarray(old.next), start + size);
  return copy;
}

/** The framing verdict, or `threw <name>` when checkBatchFraming throws a SluiceError. */
function framingVerdict(bytes: Uint8Array, position = 0, batchBytesMax = BATCH_BYTES_MAX): string {
  let kind = '';
  const thrown = errorNameOf(() => { kind = checkBatchFraming(bytes, position, batchBytesMax).kind; });
  return thrown === undefined ? kind : `threw ${thrown}`;
}

function withByte(batch: Uint8Array, position: number, mask: number): Uint8Array {
  const copy = batch.slice();
  copy[position]! ^= mask;
  return copy;
}

/** Where each field of the record at `start` begins, by name; 'end' is where the record ends. */
function recordFieldPositions(batch: Uint8Array, start: number): Map<string, number> {
  const fields = new Map<string, number>();
  let position = start;
  const varint = (name: string, read: (bytes: Uint8Array, at: number) => VarintRead = readVarint): number => {
    fields.set(name, position);
    const result = read(batch, position);
    if (!result.ok) throw new Error(`test bug: ${name} at ${position} is ${result.reason}`);
    position = result.next;
    return result.value;
  };
  const nullableBytes = (name: string): void => {
    const length = varint(`${name}Length`);
    fields.set(name, position);
    position += Math.max(length, 0);
  };
  varint('length');
  fields.set('attributes', position);
  position += 1;
  varint('timestampDelta', readVarlong);
  varint('offsetDelta');
  nullableBytes('key');
  nullableBytes('value');
  const headerCount = varint('headerCount');
  for (let index = 0; index < headerCount; index++) {
    nullableBytes(`header${index}Key`);
    nullableBytes(`header${index}Value`);
  }
  fields.set('end', position);
  return fields;
}

/** The start of every record of a valid batch. */
function recordStarts(batch: Uint8Array): number[] {
  const starts: number[] = [];
  let position = BATCH_HEADER_BYTES;
  while (position < batch.length) {
    starts.push(position);
    position = recordFieldPositions(batch, position).get('end')!;
  }
  return starts;
}

function field(fields: Map<string, number>, name: string): number {
  const position = fields.get(name);
  if (position === undefined) throw new Error(`test bug: no field ${name}`);
  return position;
}

describe('record batch validation', () => {
  describe('CRC-32C', () => {
    // Bytes of baseTimestamp and maxTimestamp whose flip can push them past 2^53.
    const UNSAFE_TIMESTAMP_BYTES = new Set([
      BASE_TIMESTAMP_POSITION, BASE_TIMESTAMP_POSITION + 1, MAX_TIMESTAMP_POSITION, MAX_TIMESTAMP_POSITION + 1,
    ]);

    it('a flipped byte anywhere in the CRC field or the range it covers makes a produce fail as CORRUPT_MESSAGE', () => {
      const batch = fixedBatch();
      for (let position = CRC_POSITION; position < batch.length; position++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          expect(validationError(withByte(batch, position, mask)), `byte ${position} ^ ${mask}`).toBe('CORRUPT_MESSAGE');
        }
      }
    });

    it('a flipped byte in the CRC field or the range it covers is reported as corrupt by the framing check', () => {
      const batch = fixedBatch();
      for (let position = CRC_POSITION; position < batch.length; position++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          expect(framingVerdict(withByte(batch, position, mask)), `byte ${position} ^ ${mask}`).toBe('corrupt');
        }
      }
    });

    // With a recomputed CRC, an i64 past 2^53 still gets a verdict rather than an exception.
    it('a flipped high byte of a timestamp is reported as corrupt by the framing check, not thrown', () => {
      const batch = fixedBatch();
      for (const position of UNSAFE_TIMESTAMP_BYTES) {
        expect(framingVerdict(withByte(batch, position, 0x80)), `byte ${position}`).toBe('corrupt');
      }
    });

    it('a changed baseOffset or partitionLeaderEpoch leaves the CRC valid: both lie outside it', () => {
      const batch = fixedBatch();
      // Bytes 0 and 1 of baseOffset are left out: any change there leaves the safe-integer range.
      const positions = [2, 3, 4, 5, 6, 7, ...[0, 1, 2, 3].map((index) => PARTITION_LEADER_EPOCH_POSITION + index)];
      for (const position of positions) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const changed = withByte(batch, position, mask);
          expect(framingVerdict(changed), `byte ${position} ^ ${mask}`).toBe('valid');
          expect(validationError(changed), `byte ${position} ^ ${mask}`).toBeUndefined();
        }
      }
    });

    it('a baseOffset beyond 2^53 is refused as CORRUPT_MESSAGE on produce', () => {
      for (const mask of [0x01, 0x80]) expect(validationError(withByte(fixedBatch(), 0, mask))).toBe('CORRUPT_MESSAGE');
    });

    it('a baseOffset beyond 2^53 is reported as corrupt by the framing check, not thrown', () => {
      expect(framingVerdict(withByte(fixedBatch(), 1, 0x80))).toBe('corrupt');
    });
  });

  describe('framing', () => {
    it('a wrong magic byte is corrupt', () => {
      for (const magic of [0, 1, 3, 0x7f, 0xff]) {
        const batch = fixedBatch();
        batch[MAGIC_POSITION] = magic;
        const check = checkBatchFraming(batch, 0, BATCH_BYTES_MAX);
        expect(check.kind, `magic ${magic}`).toBe('corrupt');
        expect(check.kind === 'corrupt' ? check.reason : '').toMatch(/magic/);
        expect(validationError(batch)).toBe('CORRUPT_MESSAGE');
      }
    });

    it('a batchLength below the 61-byte header, negative, or above batchBytesMax is corrupt', () => {
      const smallBatchBytesMax = 4096;
      const lengths = [0, 1, BATCH_HEADER_BYTES - 12 - 1, -1, -12, -(2 ** 31), smallBatchBytesMax - 12 + 1, 2 ** 31 - 1];
      for (const batchLength of lengths) {
        const batch = fixedBatch();
        view(batch).setInt32(BATCH_LENGTH_POSITION, batchLength);
        expect(framingVerdict(batch, 0, smallBatchBytesMax), `batchLength ${batchLength}`).toBe('corrupt');
        expect(validationError(batch, smallBatchBytesMax), `batchLength ${batchLength}`).toBe('CORRUPT_MESSAGE');
      }
    });

    it('a batch exactly batchBytesMax long frames; one byte more is corrupt', () => {
      const batch = fixedBatch();
      expect(framingVerdict(batch, 0, batch.length)).toBe('valid');
      expect(framingVerdict(batch, 0, batch.length - 1)).toBe('corrupt');
    });

    it('a batch cut short anywhere is torn, and no bytes at all is the end', () => {
      const batch = fixedBatch();
      for (let length = 1; length < batch.length; length++) {
        expect(framingVerdict(batch.subarray(0, length)), `cut to ${length}`).toBe('torn');
        expect(validationError(batch.subarray(0, length)), `cut to ${length}`).toBe('CORRUPT_MESSAGE');
      }
      expect(framingVerdict(new Uint8Array(0))).toBe('end');
      expect(validationError(new Uint8Array(0))).toBe('CORRUPT_MESSAGE');
    });

    it('batches laid end to end frame one after another and then end', () => {
      const first = fixedBatch();
      const second = encodeRecordBatch({ records: FIXED_RECORDS.slice(1), baseOffset: 3 });
      const log = new Uint8Array(first.length + second.length);
      log.set(first, 0);
      log.set(second, first.length);
      expect(checkBatchFraming(log, 0, BATCH_BYTES_MAX)).toMatchObject({ kind: 'valid', sizeBytes: first.length });
      expect(checkBatchFraming(log, first.length, BATCH_BYTES_MAX)).toMatchObject({ kind: 'valid', sizeBytes: second.length, header: { baseOffset: 3 } });
      expect(framingVerdict(log, log.length)).toBe('end');
      expect(framingVerdict(log.subarray(0, log.length - 1), first.length)).toBe('torn');
    });

    it('bytes after the batch it declares make a produce fail as CORRUPT_MESSAGE', () => {
      const batch = fixedBatch();
      const longer = new Uint8Array(batch.length + 3);
      longer.set(batch);
      expect(framingVerdict(longer)).toBe('valid');
      expect(validationError(longer)).toBe('CORRUPT_MESSAGE');
    });
  });

  describe('produce', () => {
    it('a header key that is not UTF-8 is accepted and decodes with replacement characters, as Kafka reads it', () => {
      const batch = encodeRecordBatch({ records: [{ key: null, value: null, headers: [{ key: 'ZZ', value: null }], timestamp: TIMESTAMP_MS }] });
      const at = Buffer.from(batch).indexOf('ZZ');
      batch[at] = 0xff;
      batch[at + 1] = 0xfe;
      resealCrc(batch);
      expect(validationError(batch)).toBeUndefined();
      expect(decodeRecords(batch)[0]!.headers[0]!.key).toBe('\ufffd\ufffd');
    });

    it('a batch over batchBytesMax is MESSAGE_TOO_LARGE; one exactly at it is accepted', () => {
      const batch = fixedBatch();
      expect(validationError(batch, batch.length)).toBeUndefined();
      expect(validationError(batch, batch.length - 1)).toBe('MESSAGE_TOO_LARGE');
      expect(validationError(batch, BATCH_HEADER_BYTES)).toBe('MESSAGE_TOO_LARGE');
    });

    it('any compression codec is UNSUPPORTED_COMPRESSION_TYPE, even with a valid CRC', () => {
      for (let codec = 1; codec <= 7; codec++) {
        const batch = fixedBatch();
        view(batch).setInt16(ATTRIBUTES_POSITION, codec);
        resealCrc(batch);
        expect(framingVerdict(batch), `codec ${codec}`).toBe('valid');
        expect(validationError(batch), `codec ${codec}`).toBe('UNSUPPORTED_COMPRESSION_TYPE');
      }
    });

    it('a lastOffsetDelta or recordCount that disagrees with the records is INVALID_RECORD', () => {
      const count = FIXED_RECORDS.length;
      const cases: ReadonlyArray<readonly [lastOffsetDelta: number, recordCount: number]> = [
        [count, count], [count - 2, count], [-1, count], // lastOffsetDelta wrong
        [count - 1, count + 1], [count - 1, count - 1], [count - 1, 0], [count - 1, -1], // recordCount wrong
        [count, count + 1], [count - 2, count - 1], [-1, 0], [2 ** 31 - 2, 2 ** 31 - 1], // both, consistently
      ];
      for (const [lastOffsetDelta, recordCount] of cases) {
        const batch = fixedBatch();
        view(batch).setInt32(LAST_OFFSET_DELTA_POSITION, lastOffsetDelta);
        view(batch).setInt32(RECORD_COUNT_POSITION, recordCount);
        resealCrc(batch);
        expect(validationError(batch), `lastOffsetDelta ${lastOffsetDelta}, recordCount ${recordCount}`).toBe('INVALID_RECORD');
      }
    });

    it('a record length that runs past the end of the batch is INVALID_RECORD', () => {
      const batch = fixedBatch();
      for (const start of recordStarts(batch)) {
        const old = readVarint(batch, start);
        if (!old.ok) throw new Error('test bug: fixed batch is invalid');
        // The bytes after the old length, plus one: the record now ends one byte past the batch.
        const tooLong = reframe(replaceVarint(batch, start, batch.length - old.next + 1));
        expect(validationMessage(tooLong), `record at ${start}`).toMatch(/INVALID_RECORD.*runs past the batch/);
      }
    });

    it('a record length of zero, negative, or malformed is INVALID_RECORD', () => {
      const start = recordStarts(fixedBatch())[0]!;
      for (const length of [0, -1, -100]) {
        const batch = fixedBatch();
        writeVarint(batch, start, length);
        expect(validationMessage(resealCrc(batch)), `length ${length}`).toMatch(/INVALID_RECORD.*record length/);
      }
      const batch = fixedBatch();
      batch.fill(0xff, start); // a varint that never ends
      expect(validationMessage(resealCrc(batch))).toMatch(/INVALID_RECORD.*record length is too-long/);
    });

    it('a key or value length that runs past its record is INVALID_RECORD', () => {
      for (const name of ['keyLength', 'valueLength', 'header0KeyLength', 'header0ValueLength']) {
        const batch = fixedBatch();
        const fields = recordFieldPositions(batch, BATCH_HEADER_BYTES);
        const position = field(fields, name);
        writeVarint(batch, position, field(fields, 'end') - position); // one byte past the end
        expect(validationMessage(resealCrc(batch)), name).toMatch(/INVALID_RECORD.*runs past the record/);
        writeVarint(batch, position, -2);
        expect(validationMessage(resealCrc(batch)), `${name} -2`).toMatch(/INVALID_RECORD.*length -2 runs past the record/);
      }
    });

    it('a record whose fields end before its declared length is INVALID_RECORD', () => {
      const batch = fixedBatch();
      const start = recordStarts(batch)[2]!; // the last record, so that nothing shifts after it
      const fields = recordFieldPositions(batch, start);
      const longer = new Uint8Array(batch.length + 1);
      longer.set(batch);
      writeVarint(longer, start, field(fields, 'end') - field(fields, 'attributes') + 1);
      expect(validationMessage(reframe(longer))).toMatch(/INVALID_RECORD.*record declares/);
    });

    it('extra bytes after the last record, inside batchLength, are INVALID_RECORD', () => {
      for (const extraBytes of [1, 2, 100]) {
        const batch = fixedBatch();
        const longer = new Uint8Array(batch.length + extraBytes);
        longer.set(batch);
        expect(validationMessage(reframe(longer)), `${extraBytes} extra bytes`).toMatch(/INVALID_RECORD.*follow the last/);
      }
    });

    it('offset deltas out of order are INVALID_RECORD', () => {
      const batch = fixedBatch();
      const second = recordFieldPositions(batch, recordStarts(batch)[1]!);
      writeVarint(batch, field(second, 'offsetDelta'), 0); // the same one-byte size as 1
      expect(validationMessage(resealCrc(batch))).toMatch(/INVALID_RECORD.*record 1 has offsetDelta 0/);
    });

    it('a null header key is INVALID_RECORD', () => {
      const fieldsOf = (batch: Uint8Array) => recordFieldPositions(batch, BATCH_HEADER_BYTES);
      const nullKey = fixedBatch();
      writeVarint(nullKey, field(fieldsOf(nullKey), 'header1KeyLength'), -1); // was '' (0): same size
      expect(validationMessage(resealCrc(nullKey))).toMatch(/INVALID_RECORD.*header key is null/);
    });

    it('a timestamp beyond the safe-integer range is refused with a typed error', () => {
      const batch = fixedBatch();
      view(batch).setBigInt64(BASE_TIMESTAMP_POSITION, 2n ** 60n);
      expect(validationError(resealCrc(batch))).toBe('CORRUPT_MESSAGE');
    });
  });

  describe('fuzz', () => {
    type Mutation = 'flip' | 'truncate' | 'batch-length' | 'header-field' | 'record-length' | 'splice' | 'attributes';
    const MUTATIONS: readonly Mutation[] = ['flip', 'truncate', 'batch-length', 'header-field', 'record-length', 'splice', 'attributes'];

    function randomBatch(random: () => number): Uint8Array {
      const count = 1 + Math.floor(random() * 6);
      const bytes = (bytesMax: number) => (random() < 0.2 ? null : Uint8Array.from({ length: Math.floor(random() * bytesMax) }, () => Math.floor(random() * 256)));
      const records: BatchRecord[] = Array.from({ length: count }, () => ({
        key: bytes(40),
        value: bytes(80),
        headers: Array.from({ length: Math.floor(random() * 4) }, () => ({ key: random() < 0.5 ? 'h' : 'ключ', value: bytes(8) })),
        timestamp: TIMESTAMP_MS + Math.floor((random() - 0.5) * 1_000_000),
      }));
      return encodeRecordBatch({ records, baseOffset: Math.floor(random() * 1_000_000) });
    }

    /** An i32 that is likely to sit on a boundary. */
    function interestingInt32(random: () => number, near: number): number {
      const choices = [0, 1, -1, near, near - 1, near + 1, 2 ** 31 - 1, -(2 ** 31), Math.floor(random() * 2 ** 32) - 2 ** 31];
      return choices[Math.floor(random() * choices.length)]!;
    }

    function mutate(batch: Uint8Array, mutation: Mutation, random: () => number): Uint8Array {
      const at = (from: number) => from + Math.floor(random() * (batch.length - from));
      switch (mutation) {
        case 'flip': {
          const copy = batch.slice();
          const flips = 1 + Math.floor(random() * 3);
          for (let index = 0; index < flips; index++) copy[at(0)]! ^= 1 + Math.floor(random() * 255);
          return copy;
        }
        case 'truncate':
          return batch.slice(0, Math.floor(random() * batch.length));
        case 'batch-length': {
          const copy = batch.slice();
          view(copy).setInt32(BATCH_LENGTH_POSITION, interestingInt32(random, batch.length - 12));
          return copy;
        }
        case 'header-field': {
          const copy = batch.slice();
          const position = random() < 0.5 ? LAST_OFFSET_DELTA_POSITION : RECORD_COUNT_POSITION;
          view(copy).setInt32(position, interestingInt32(random, view(batch).getInt32(RECORD_COUNT_POSITION)));
          return copy;
        }
        case 'record-length':
          return rewriteRecordLength(batch, random);
        case 'splice': {
          const position = at(BATCH_HEADER_BYTES);
          const inserted = random() < 0.5 ? Uint8Array.from({ length: 1 + Math.floor(random() * 4) }, () => Math.floor(random() * 256)) : new Uint8Array(0);
          const removed = inserted.length === 0 ? 1 + Math.floor(random() * 4) : 0;
          const copy = new Uint8Array(Math.max(position, batch.length - removed) + inserted.length);
          copy.set(batch.subarray(0, position));
          copy.set(inserted, position);
          copy.set(batch.subarray(Math.min(batch.length, position + removed)), position + inserted.length);
          return copy;
        }
        case 'attributes': {
          const copy = batch.slice();
          view(copy).setInt16(ATTRIBUTES_POSITION, Math.floor(random() * 2 ** 16) - 2 ** 15);
          return copy;
        }
      }
    }

    /** Rewrites one record's length varint with a nearby or wild value. */
    function rewriteRecordLength(batch: Uint8Array, random: () => number): Uint8Array {
      const starts = recordStarts(batch);
      const start = starts[Math.floor(random() * starts.length)]!;
      const old = readVarint(batch, start);
      if (!old.ok) throw new Error('test bug: base batch is invalid');
      const length = random() < 0.7 ? old.value + Math.floor(random() * 7) - 3 : Math.floor(random() * 2 ** 32) - 2 ** 31;
      return replaceVarint(batch, start, length);
    }

    it(`${FUZZ_CASES} seeded random mutations either validate or throw a SluiceError, never anything else (seed ${SEED})`, () => {
      const outcomes = new Map<string, number>();
      for (let index = 0; index < FUZZ_CASES; index++) {
        const seed = SEED + index;
        const random = mulberry32(seed);
        const mutation = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
        let bytes = mutate(randomBatch(random), mutation, random);
        // Half the cases get a consistent length and CRC, so record-level parsing is reached.
        const resealed = index % 2 === 0 && bytes.length >= ATTRIBUTES_POSITION;
        if (resealed) bytes = mutation === 'batch-length' ? resealCrc(bytes) : reframe(bytes);
        const context = `seed ${seed} (case ${index}), ${mutation}${resealed ? ', resealed' : ''}: ${Buffer.from(bytes).toString('hex')}`;

        const framing = errorNameOf(() => checkBatchFraming(bytes, 0, BATCH_BYTES_MAX));
        expect([undefined, 'CORRUPT_MESSAGE'], context).toContain(framing);
        let outcome: string;
        try {
          const header = validateProducedBatch(bytes, BATCH_BYTES_MAX);
          expect(decodeRecords(bytes).length, context).toBe(header.recordCount);
          outcome = 'accepted';
        } catch (error) {
          if (!(error instanceof SluiceError)) throw new Error(`${context}: threw ${String(error)}`, { cause: error });
          outcome = error.errorName;
        }
        const key = `${outcome}${resealed ? ' (resealed)' : ''}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      // The fuzz is only worth something if it reaches every verdict.
      for (const key of ['accepted (resealed)', 'CORRUPT_MESSAGE', 'INVALID_RECORD (resealed)', 'UNSUPPORTED_COMPRESSION_TYPE (resealed)']) {
        expect(outcomes.get(key) ?? 0, `${key} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(10);
      }
    });
  });
});
