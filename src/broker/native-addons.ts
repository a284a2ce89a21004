import { createRequire } from 'node:module';
import { crc32cImplementation, type Crc32cImplementation } from '../record/index.js';

/** Which implementation of each hot-path primitive this process runs. */
export interface NativeAddonReport {
  readonly crc32c: Crc32cImplementation;
  /** ws's frame masking: the bufferutil addon, or its JavaScript fallback (about 5x slower). */
  readonly websocketMasking: 'native' | 'javascript';
}

/**
 * Checks at run time that the addons npm was asked to build (`allowScripts` in package.json)
 * really loaded: both packages fall back to JavaScript silently when their build was skipped.
 */
export function reportNativeAddons(): NativeAddonReport {
  return { crc32c: crc32cImplementation, websocketMasking: detectWebsocketMasking() };
}

function detectWebsocketMasking(): 'native' | 'javascript' {
  const require = createRequire(import.meta.url);
  if (process.env.WS_NO_BUFFER_UTIL) return 'javascript';
  try {
    const loaded = require('bufferutil') as { mask: unknown };
    const fallback = require('bufferutil/fallback.js') as { mask: unknown };
    return loaded.mask === fallback.mask ? 'javascript' : 'native';
  } catch {
    return 'javascript';
  }
}
