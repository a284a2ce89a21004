import fastCrc32c from 'fast-crc32c';

/**
 * Which CRC-32C code runs. `native` is the sse4_crc32 addon (SSE4.2 instructions, about 10 GB/s
 * here); `javascript` is fast-crc32c's table fallback (about 0.5 GB/s), which the package picks
 * silently when the addon was not built at install time.
 */
export type Crc32cImplementation = 'native' | 'javascript';

// fast-crc32c's own loader decides; we only find out which one it took, by identity with the
// native wrapper. That wrapper throws on import when the addon is missing.
async function detectImplementation(): Promise<Crc32cImplementation> {
  try {
    const native = await import('fast-crc32c/impls/sse4_crc32c.js');
    return native.default.calculate === fastCrc32c.calculate ? 'native' : 'javascript';
  } catch {
    return 'javascript';
  }
}

/** The CRC-32C implementation active in this process. */
export const crc32cImplementation: Crc32cImplementation = await detectImplementation();

const calculate = fastCrc32c.calculate;

/** CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array): number {
  return calculate(bytes) >>> 0;
}
