import { performance } from 'node:perf_hooks';
import { crc32c, crc32cImplementation, type Crc32cImplementation } from '../../src/record/index.js';
import { pseudoRandomBytes } from './batches.js';

/** CRC-32C speed of the implementation this process loaded. */
export interface CrcResult {
  readonly implementation: Crc32cImplementation;
  readonly bufferBytes: number;
  readonly passes: number;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
}

const CRC_SECONDS_MAX = 1;
const CRC_PASSES_MAX = 1000;

/** CRCs one buffer repeatedly (after one untimed pass) for about a second. */
export function runCrcBench(bufferBytes: number, quick: boolean): CrcResult {
  const buffer = pseudoRandomBytes(bufferBytes, 0x5eed);
  let checksum = crc32c(buffer);
  const passesMax = quick ? 2 : CRC_PASSES_MAX;
  const startMs = performance.now();
  let passes = 0;
  while (passes < passesMax && performance.now() - startMs < CRC_SECONDS_MAX * 1000) {
    checksum ^= crc32c(buffer);
    passes += 1;
  }
  const elapsedMs = performance.now() - startMs;
  // Use the result so no engine can call the loop dead; an even number of XORs cancels out.
  if (checksum === -1) throw new Error('unreachable: crc32c is unsigned');
  return { implementation: crc32cImplementation, bufferBytes, passes, elapsedMs, bytesPerSecond: (passes * bufferBytes) / (elapsedMs / 1000) };
}
