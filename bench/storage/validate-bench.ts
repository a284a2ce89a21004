import { performance } from 'node:perf_hooks';
import { stampBatch, validateProducedBatch } from '../../src/record/index.js';
import { encodeTemplateBatch } from './batches.js';

/** The synchronous CPU work PartitionLog.append does per batch before it queues it. */
export interface ValidateResult {
  readonly recordsPerBatch: number;
  readonly batchBytes: number;
  readonly batches: number;
  readonly elapsedMs: number;
  /** copy + validateProducedBatch (framing, CRC-32C, decode of every record) + stampBatch. */
  readonly microsecondsPerBatch: number;
  /** The ceiling this work alone puts on one core. */
  readonly recordsPerSecond: number;
}

const VALIDATE_SECONDS_MAX = 0.5;
const VALIDATE_BATCHES_MAX = 1_000_000;

/** Times the per-append CPU path on one core, without I/O, for about half a second. */
export function runValidateBench(recordsPerBatch: number, valueBytes: number, batchBytesMax: number, quick: boolean): ValidateResult {
  const template = encodeTemplateBatch(recordsPerBatch, valueBytes, Date.now());
  const secondsMax = quick ? 0.05 : VALIDATE_SECONDS_MAX;
  const startMs = performance.now();
  let batches = 0;
  while (batches < VALIDATE_BATCHES_MAX && performance.now() - startMs < secondsMax * 1000) {
    const batch = template.slice();
    validateProducedBatch(batch, batchBytesMax);
    stampBatch(batch, batches, 0);
    batches += 1;
  }
  const elapsedMs = performance.now() - startMs;
  return {
    recordsPerBatch, batchBytes: template.length, batches, elapsedMs,
    microsecondsPerBatch: (elapsedMs * 1000) / batches,
    recordsPerSecond: (batches * recordsPerBatch) / (elapsedMs / 1000),
  };
}
