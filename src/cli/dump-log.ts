import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ATTRIBUTES_POSITION, BATCH_HEADER_BYTES, MAGIC_V2, batchSizeBytes, crc32c,
  decodeBatchHeader, decodeRecords, lastOffsetOf, type RecordBatchHeader,
} from '../record/index.js';
import { parseLogFileName, segmentFilePrefix } from '../storage/segment-names.js';

/** How dump-log was asked to print. */
export interface DumpLogOptions {
  readonly json: boolean;
  readonly verify: boolean;
  readonly records: boolean;
  readonly batchBytesMax: number;
}

/** One line of output: a batch, or a problem found where a batch should be. */
type DumpEntry =
  | { kind: 'batch'; segment: number; position: number; header: RecordBatchHeader; sizeBytes: number; crcOk: boolean; batch: Uint8Array }
  | { kind: 'problem'; segment: number; position: number; problem: string };

interface DumpSummary {
  segments: number;
  batches: number;
  records: number;
  problems: number;
  firstOffset: number | null;
  nextOffset: number | null;
}

/**
 * Prints every batch of a partition directory, reading the `.log` files directly (never the
 * indexes), and checks CRC-32C and offset continuity as it goes. Returns the process exit code:
 * 1 with --verify when anything is wrong, else 0.
 */
export async function dumpLog(partitionDir: string, options: DumpLogOptions, print: (line: string) => void): Promise<number> {
  const baseOffsets = (await readdir(partitionDir)).map(parseLogFileName).filter((offset): offset is number => offset !== null).sort((a, b) => a - b);
  const summary: DumpSummary = { segments: baseOffsets.length, batches: 0, records: 0, problems: 0, firstOffset: null, nextOffset: null };
  for (const baseOffset of baseOffsets) {
    if (summary.nextOffset !== null && baseOffset !== summary.nextOffset) {
      report({ kind: 'problem', segment: baseOffset, position: 0, problem: `offset gap: segment starts at ${baseOffset}, previous batch ended before ${summary.nextOffset}` });
    }
    const handle = await open(join(partitionDir, `${segmentFilePrefix(baseOffset)}.log`), 'r');
    try {
      for await (const entry of walkSegment(handle, baseOffset, options.batchBytesMax)) report(entry);
    } finally {
      await handle.close();
    }
  }
  print(options.json ? JSON.stringify({ summary }) : formatSummary(summary));
  return options.verify && summary.problems > 0 ? 1 : 0;

  function report(entry: DumpEntry): void {
    if (entry.kind === 'problem') {
      summary.problems += 1;
      print(options.json ? JSON.stringify(entry) : `PROBLEM segment ${entry.segment} position ${entry.position}: ${entry.problem}`);
      return;
    }
    const { header } = entry;
    if (summary.nextOffset !== null && header.baseOffset !== summary.nextOffset) {
      report({ kind: 'problem', segment: entry.segment, position: entry.position, problem: `offset gap or overlap: batch starts at ${header.baseOffset}, expected ${summary.nextOffset}` });
    }
    if (!entry.crcOk) report({ kind: 'problem', segment: entry.segment, position: entry.position, problem: 'CRC-32C mismatch' });
    summary.batches += 1;
    summary.records += header.recordCount;
    summary.firstOffset ??= header.baseOffset;
    summary.nextOffset = lastOffsetOf(header) + 1;
    print(options.json ? JSON.stringify(batchJson(entry)) : formatBatch(entry));
    if (options.records && entry.crcOk) printRecords(entry.batch, options.json, print);
  }
}

// Reads header then body, batch by batch. A bad length ends the segment (nothing after it can
// be framed); a bad CRC is reported and skipped, because its length is still believable.
async function* walkSegment(handle: FileHandle, segment: number, batchBytesMax: number): AsyncGenerator<DumpEntry> {
  const sizeBytes = (await handle.stat()).size;
  let position = 0;
  while (position < sizeBytes) {
    if (sizeBytes - position < BATCH_HEADER_BYTES) {
      yield { kind: 'problem', segment, position, problem: `torn: ${sizeBytes - position} bytes left, less than a batch header` };
      return;
    }
    const headerBytes = await readAt(handle, position, BATCH_HEADER_BYTES);
    const header = decodeBatchHeader(headerBytes);
    const batchBytes = batchSizeBytes(header.batchLength);
    if (batchBytes < BATCH_HEADER_BYTES || batchBytes > batchBytesMax || header.magic !== MAGIC_V2) {
      yield { kind: 'problem', segment, position, problem: `corrupt header: size ${batchBytes}, magic ${header.magic}` };
      return;
    }
    if (position + batchBytes > sizeBytes) {
      yield { kind: 'problem', segment, position, problem: `torn: batch of ${batchBytes} bytes, ${sizeBytes - position} left` };
      return;
    }
    const batch = await readAt(handle, position, batchBytes);
    const crcOk = crc32c(batch.subarray(ATTRIBUTES_POSITION)) === header.crc;
    yield { kind: 'batch', segment, position, header, sizeBytes: batchBytes, crcOk, batch };
    position += batchBytes;
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function batchJson(entry: Extract<DumpEntry, { kind: 'batch' }>): object {
  const { header } = entry;
  return {
    segment: entry.segment, position: entry.position, baseOffset: header.baseOffset, lastOffset: lastOffsetOf(header),
    recordCount: header.recordCount, sizeBytes: entry.sizeBytes, partitionLeaderEpoch: header.partitionLeaderEpoch,
    baseTimestamp: header.baseTimestamp, maxTimestamp: header.maxTimestamp, attributes: header.attributes,
    producerId: header.producer === null ? null : String(header.producer.producerId),
    producerEpoch: header.producer?.producerEpoch ?? null, baseSequence: header.producer?.baseSequence ?? null,
    crc: header.crc, crcOk: entry.crcOk,
  };
}

function formatBatch(entry: Extract<DumpEntry, { kind: 'batch' }>): string {
  const { header } = entry;
  const producer = header.producer === null ? 'none' : `${header.producer.producerId}/${header.producer.producerEpoch} seq ${header.producer.baseSequence}`;
  return `offsets ${header.baseOffset}..${lastOffsetOf(header)} count ${header.recordCount} position ${entry.position} size ${entry.sizeBytes}`
    + ` epoch ${header.partitionLeaderEpoch} time ${header.baseTimestamp}..${header.maxTimestamp} producer ${producer}`
    + ` crc ${header.crc.toString(16).padStart(8, '0')} ${entry.crcOk ? 'ok' : 'BAD'}`;
}

function printRecords(batch: Uint8Array, json: boolean, print: (line: string) => void): void {
  let records;
  try {
    records = decodeRecords(batch);
  } catch (error) {
    print(json ? JSON.stringify({ recordsError: (error as Error).message }) : `  | records undecodable: ${(error as Error).message}`);
    return;
  }
  for (const record of records) {
    const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
    const fields = { offset: record.offset, timestamp: record.timestamp, key: text(record.key), value: text(record.value), headers: record.headers.map((h) => ({ key: h.key, value: text(h.value) })) };
    print(json ? JSON.stringify({ record: fields }) : `  | offset ${fields.offset} time ${fields.timestamp} key ${JSON.stringify(fields.key)} value ${JSON.stringify(fields.value)}`);
  }
}

function formatSummary(summary: DumpSummary): string {
  const range = summary.firstOffset === null ? 'empty' : `offsets [${summary.firstOffset}, ${summary.nextOffset})`;
  return `segments ${summary.segments} batches ${summary.batches} records ${summary.records} ${range} problems ${summary.problems}`;
}

