// fast-crc32c ships no types. Its loader returns the first implementation that loads and passes
// a self-check: the sse4_crc32 native addon, else a table-driven JavaScript fallback.
declare module 'fast-crc32c' {
  const crc32c: { calculate(bytes: Uint8Array | string, initial?: number): number };
  export default crc32c;
}
declare module 'fast-crc32c/impls/sse4_crc32c.js' {
  const crc32c: { calculate(bytes: Uint8Array | string, initial?: number): number };
  export default crc32c;
}
