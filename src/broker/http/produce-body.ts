import { SluiceError } from '../../errors/sluice-error.js';
import type { RecordHeader } from '../../record/index.js';

/**
 * The JSON body of `POST /v1/topics/:topic/records`, decoded into fields (docs/http.md):
 *
 *   { "records": [ { "key"?: string | null, "value": string | null,
 *                    "headers"?: { name: string | null } | [ { "key": string, "value": string | null } ],
 *                    "partition"?: integer } ] }
 *
 * Keys, values and header values are UTF-8 text, or base64 with `?encoding=base64`; header names
 * are always text. Nothing here knows about topics or partitions: that is the caller's job.
 */

/** How record keys and values are written as JSON strings. */
export type ValueEncoding = 'utf8' | 'base64';

/** One record of the body, its strings turned into bytes. */
export interface ProduceRecordInput {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** The partition asked for, or null to let the key (or its absence) decide. */
  readonly partition: number | null;
}

const RECORD_FIELDS = new Set(['key', 'value', 'headers', 'partition']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// In a `u` regex a surrogate pair is one code point, so this matches only unpaired halves,
// which UTF-8 cannot encode.
const LONE_SURROGATE = /\p{Cs}/u;
const textEncoder = new TextEncoder();

/** `?encoding=` of a request: utf8 unless base64 is asked for. */
export function parseValueEncoding(value: string | null): ValueEncoding {
  if (value === null || value === 'utf8' || value === 'utf-8') return 'utf8';
  if (value === 'base64') return 'base64';
  throw new SluiceError('INVALID_REQUEST', `encoding ${JSON.stringify(value)}: use utf8 or base64`);
}

/** Decodes the body's JSON value into records, or throws INVALID_REQUEST naming the bad field. */
export function decodeProduceBody(body: unknown, encoding: ValueEncoding): ProduceRecordInput[] {
  if (!isObject(body) || !Array.isArray(body.records)) throw invalid('the body must be an object with a "records" array');
  const extra = Object.keys(body).filter((name) => name !== 'records');
  if (extra.length > 0) throw invalid(`unknown field ${JSON.stringify(extra[0])} in the body`);
  if (body.records.length === 0) throw invalid('"records" is empty');
  // The array was parsed from a body of at most httpBodyBytesMax bytes: its length is bounded.
  return body.records.map((record: unknown, index: number) => decodeRecord(record, `records[${index}]`, encoding));
}

function decodeRecord(record: unknown, at: string, encoding: ValueEncoding): ProduceRecordInput {
  if (!isObject(record)) throw invalid(`${at} must be an object`);
  for (const name of Object.keys(record)) if (!RECORD_FIELDS.has(name)) throw invalid(`${at} has an unknown field ${JSON.stringify(name)}`);
  if (!('value' in record)) throw invalid(`${at}.value is missing (null writes a record without a value)`);
  return {
    key: record.key === undefined ? null : nullableBytes(record.key, `${at}.key`, encoding),
    value: nullableBytes(record.value, `${at}.value`, encoding),
    headers: record.headers === undefined ? [] : decodeHeaders(record.headers, `${at}.headers`, encoding),
    partition: record.partition === undefined ? null : decodePartition(record.partition, `${at}.partition`),
  };
}

function decodeHeaders(headers: unknown, at: string, encoding: ValueEncoding): RecordHeader[] {
  if (Array.isArray(headers)) {
    return headers.map((header: unknown, index: number) => {
      if (!isObject(header) || typeof header.key !== 'string') throw invalid(`${at}[${index}] must be { "key": string, "value": string | null }`);
      return { key: text(header.key, `${at}[${index}].key`), value: nullableBytes(header.value ?? null, `${at}[${index}].value`, encoding) };
    });
  }
  if (!isObject(headers)) throw invalid(`${at} must be an object of name: value, or an array of { key, value }`);
  return Object.entries(headers).map(([key, value]) => ({ key: text(key, `${at} name`), value: nullableBytes(value, `${at}.${key}`, encoding) }));
}

function decodePartition(partition: unknown, at: string): number {
  if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0) throw invalid(`${at} must be a non-negative integer`);
  return partition;
}

function nullableBytes(value: unknown, at: string, encoding: ValueEncoding): Uint8Array | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalid(`${at} must be a string or null`);
  if (encoding === 'utf8') return textEncoder.encode(text(value, at));
  if (!BASE64.test(value)) throw invalid(`${at} is not base64`);
  return Buffer.from(value, 'base64');
}

function text(value: string, at: string): string {
  if (LONE_SURROGATE.test(value)) throw invalid(`${at} holds an unpaired surrogate, which UTF-8 cannot encode`);
  return value;
}

function isObject(value: unknown): value is { [field: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', detail);
}
