import { describe, expect, it } from 'vitest';
import { HTTP_ONLY_ERRORS, HttpError, describeError, statusOfError } from '../../../src/broker/http/http-error.js';
import { recordsToJson } from '../../../src/broker/http/records-json.js';
import { ERROR_CODES, type ErrorName } from '../../../src/errors/error-codes.js';
import { SluiceError } from '../../../src/errors/sluice-error.js';
import { ATTRIBUTES_POSITION, CONTROL_MASK, encodeRecordBatch, type Record } from '../../../src/record/index.js';

const encoder = new TextEncoder();

function stored(baseOffset: number, values: ReadonlyArray<Uint8Array | null>, headers: Record['headers'] = []): Uint8Array {
  return encodeRecordBatch({ baseOffset, records: values.map((value, i) => ({ key: encoder.encode(`k${baseOffset + i}`), value, headers, timestamp: 1_000 + i })) });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe('records read over HTTP', () => {
  it('drops the records of the first batch that precede the offset asked for', () => {
    const bytes = concat(stored(10, [encoder.encode('a'), encoder.encode('b'), encoder.encode('c')]), stored(13, [encoder.encode('d')]));
    const records = recordsToJson(bytes, 11, 'utf8');
    expect(records.map((record) => [record.offset, record.key, record.value, record.timestamp])).toEqual([
      [11, 'k11', 'b', 1001], [12, 'k12', 'c', 1002], [13, 'k13', 'd', 1000],
    ]);
  });

  it('shows null as null, headers as an ordered list, and bytes as base64 when asked', () => {
    const bytes = stored(0, [null, new Uint8Array([0, 255])], [{ key: 'h', value: encoder.encode('1') }, { key: 'h', value: null }]);
    const [empty, binary] = recordsToJson(bytes, 0, 'base64');
    expect(empty!.value).toBeNull();
    expect(binary!.value).toBe('AP8=');
    expect(binary!.key).toBe(Buffer.from('k1').toString('base64'));
    expect(binary!.headers).toEqual([{ key: 'h', value: 'MQ==' }, { key: 'h', value: null }]);
  });

  it('decodes bytes that are not UTF-8 lossily, as U+FFFD', () => {
    const [record] = recordsToJson(stored(0, [new Uint8Array([0x61, 0xff, 0x62])]), 0, 'utf8');
    expect(record!.value).toBe('a\ufffdb');
  });

  it('skips control batches', () => {
    const control = stored(5, [encoder.encode('marker')]);
    const view = new DataView(control.buffer);
    view.setInt16(ATTRIBUTES_POSITION, view.getInt16(ATTRIBUTES_POSITION) | CONTROL_MASK);
    expect(recordsToJson(concat(control, stored(6, [encoder.encode('x')])), 5, 'utf8').map((r) => r.offset)).toEqual([6]);
  });
});

describe('HTTP statuses of errors', () => {
  it('answers every protocol error with a 4xx or 5xx status, and the ones clients act on with their own', () => {
    for (const name of Object.keys(ERROR_CODES) as ErrorName[]) {
      const status = statusOfError(new SluiceError(name));
      expect(status, name).toBeGreaterThanOrEqual(400);
      expect(status, name).toBeLessThan(600);
    }
    const statusOf = (name: ErrorName): number => statusOfError(new SluiceError(name));
    expect(statusOf('INVALID_REQUEST')).toBe(400);
    expect(statusOf('UNKNOWN_TOPIC_OR_PARTITION')).toBe(404);
    expect(statusOf('TOPIC_ALREADY_EXISTS')).toBe(409);
    expect(statusOf('MESSAGE_TOO_LARGE')).toBe(413);
    expect(statusOf('OFFSET_OUT_OF_RANGE')).toBe(416);
    expect(statusOf('NOT_LEADER_OR_FOLLOWER')).toBe(503);
    expect(statusOf('KAFKA_STORAGE_ERROR')).toBe(503);
    expect(statusOf('LEADER_NOT_AVAILABLE')).toBe(503);
    expect(statusOf('REQUEST_TIMED_OUT')).toBe(504);
    expect(statusOf('UNKNOWN_SERVER_ERROR')).toBe(500);
  });

  it('gives HTTP-only errors their status and names, and nothing for an untyped error', () => {
    expect(HTTP_ONLY_ERRORS).toEqual({ NOT_FOUND: 404, METHOD_NOT_ALLOWED: 405, BODY_TOO_LARGE: 413 });
    expect(describeError(new HttpError('BODY_TOO_LARGE', 'big'))).toEqual({ status: 413, body: { error: 'BODY_TOO_LARGE', message: 'big' } });
    expect(describeError(new Error('bug'))).toBeNull();
  });
});
