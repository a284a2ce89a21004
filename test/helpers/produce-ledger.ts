import { ERROR_CODES } from '../../src/errors/index.js';
import { API_VERSION, ApiKey, FrameKind, decodeProduceRequest, decodeProduceResponse } from '../../src/protocol/index.js';
import { LOG_OVERHEAD_BYTES, checkBatchFraming, decodeRecords, validateProducedBatch } from '../../src/record/index.js';
import type { Outcome } from './fuzz-connection.js';

/**
 * Which record values a broker may hold after a stream of (possibly mangled) Produce frames: every
 * frame is decoded here as the broker would decode it, its batches judged as the broker would
 * judge them, and the broker's answer sorts each partition's values into acknowledged (must be
 * in the log), maybe (acks 0, or timed out: may be in the log) and refused (must not be).
 */

/** One partition entry of a decoded Produce aimed at the ledger's topic. */
export interface ProduceEntry {
  readonly topicIndex: number;
  readonly partitionIndex: number;
  readonly partition: number;
  /** The record values of its batches, or null when a broker must refuse them. */
  readonly values: readonly string[] | null;
}

export interface ProduceTargets {
  readonly acks: number;
  readonly entries: readonly ProduceEntry[];
}

const decoder = new TextDecoder();
const REQUEST_TIMED_OUT = ERROR_CODES.REQUEST_TIMED_OUT.code;

/**
 * The targets of a frame if it is a Produce request the broker will decode (kind 1, apiKey 4,
 * apiVersion API_VERSION, a well-formed body), else null.
 */
export function produceTargets(frame: Uint8Array | string, topic: string, batchBytesMax: number): ProduceTargets | null {
  if (typeof frame === 'string' || frame.length < 8) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame[0] !== FrameKind.request || frame[1] !== ApiKey.Produce || view.getUint16(2) !== API_VERSION) return null;
  let request;
  try {
    request = decodeProduceRequest(frame.subarray(8));
  } catch {
    return null;
  }
  const entries: ProduceEntry[] = [];
  request.topics.forEach((produceTopic, topicIndex) => {
    if (produceTopic.name !== topic) return;
    produceTopic.partitions.forEach((entry, partitionIndex) => {
      entries.push({ topicIndex, partitionIndex, partition: entry.partition, values: acceptableValues(entry.records, batchBytesMax) });
    });
  });
  return { acks: request.acks, entries };
}

// The values of back-to-back batches a broker must accept, or null if it must refuse them: the
// same checks, in the same order, as the broker's produce path.
function acceptableValues(records: Uint8Array, batchBytesMax: number): string[] | null {
  if (records.length === 0) return null;
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const values: string[] = [];
  for (let position = 0; position < records.length;) {
    if (records.length - position >= LOG_OVERHEAD_BYTES && view.getInt32(position + 8) + LOG_OVERHEAD_BYTES > batchBytesMax) return null;
    const framing = checkBatchFraming(records, position, batchBytesMax);
    if (framing.kind !== 'valid') return null;
    const batch = records.slice(position, position + framing.sizeBytes);
    try {
      validateProducedBatch(batch, batchBytesMax);
      values.push(...decodeRecords(batch).map((record) => (record.value === null ? '<null>' : decoder.decode(record.value))));
    } catch {
      return null;
    }
    position += framing.sizeBytes;
  }
  return values;
}

/** Values by partition, sorted by what the broker said. */
export class ProduceLedger {
  readonly acked = new Map<number, Set<string>>();
  readonly maybe = new Map<number, Set<string>>();
  readonly refused = new Map<number, Set<string>>();
  /** Partition results by error code, over every Produce answered. */
  readonly resultsByCode = new Map<number, number>();

  /** Records the outcome of one frame; returns a description of anything a broker must not do. */
  record(targets: ProduceTargets | null, outcome: Outcome): string | null {
    if (targets === null || targets.entries.length === 0) return null;
    if (outcome.kind === 'silent') return this.sortAll(targets, this.maybe);
    if (outcome.kind === 'timeout') return this.sortAll(targets, this.maybe);
    if (outcome.kind === 'close') return this.sortAll(targets, this.refused);
    const response = decodeProduceResponse(outcome.frame.subarray(8));
    if (response.headerOnly) return this.sortAll(targets, this.refused);
    for (const entry of targets.entries) {
      const result = response.topics[entry.topicIndex]?.partitions[entry.partitionIndex];
      if (result === undefined || result.partition !== entry.partition) return `a Produce response lacks the result of topic #${entry.topicIndex} partition #${entry.partitionIndex}`;
      this.resultsByCode.set(result.errorCode, (this.resultsByCode.get(result.errorCode) ?? 0) + 1);
      if (result.errorCode === 0 && entry.values === null) return `partition ${entry.partition}: a batch that fails validation was acknowledged`;
      const into = result.errorCode === 0 ? this.acked : result.errorCode === REQUEST_TIMED_OUT ? this.maybe : this.refused;
      add(into, entry.partition, entry.values ?? []);
    }
    return null;
  }

  /** Compares the values read back from a partition with what was acknowledged; returns every discrepancy. */
  verify(partition: number, stored: readonly string[]): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    const acked = this.acked.get(partition) ?? new Set();
    const maybe = this.maybe.get(partition) ?? new Set();
    for (const value of stored) {
      if (seen.has(value)) problems.push(`partition ${partition}: ${value.slice(0, 40)} is stored twice`);
      seen.add(value);
      if (!acked.has(value) && !maybe.has(value)) {
        const why = this.refused.get(partition)?.has(value) === true ? 'its produce was refused' : 'no produce of it was answered';
        problems.push(`partition ${partition}: ${value.slice(0, 40)} is stored but ${why}`);
      }
    }
    for (const value of acked) if (!seen.has(value)) problems.push(`partition ${partition}: acknowledged ${value.slice(0, 40)} is missing`);
    return problems;
  }

  private sortAll(targets: ProduceTargets, into: Map<number, Set<string>>): null {
    for (const entry of targets.entries) add(into, entry.partition, entry.values ?? []);
    return null;
  }
}

function add(into: Map<number, Set<string>>, partition: number, values: readonly string[]): void {
  let set = into.get(partition);
  if (set === undefined) {
    set = new Set();
    into.set(partition, set);
  }
  for (const value of values) set.add(value);
}
