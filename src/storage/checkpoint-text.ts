import { readFile } from 'node:fs/promises';

/**
 * Kafka's checkpoint text format, shared by the offset checkpoints of a data directory and the
 * leader-epoch checkpoint of a partition:
 *
 *   0          version
 *   2          number of entries
 *   <entry>    one line each, in the file's own layout
 *
 * Read defensively: any deviation makes the whole file untrusted, because a half-believed
 * checkpoint is worse than none.
 */

const CHECKPOINT_VERSION = 0;
/** Bounds the read: even 100k partitions fit well inside this. */
const CHECKPOINT_FILE_BYTES_MAX = 16 * 1024 * 1024;

/** Either the entries, or why the file could not be believed. */
export type CheckpointRead<T> =
  | { readonly kind: 'read'; readonly entries: readonly T[] }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The checkpoint text holding `entryLines`. */
export function formatCheckpoint(entryLines: readonly string[]): string {
  return `${[String(CHECKPOINT_VERSION), String(entryLines.length), ...entryLines].join('\n')}\n`;
}

/** Reads a checkpoint file; never throws for bad contents, only reports them. */
export async function readCheckpointFile<T>(path: string, parseEntry: (line: string) => T | null): Promise<CheckpointRead<T>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: `unreadable: ${(error as Error).message}` };
  }
  if (bytes.length > CHECKPOINT_FILE_BYTES_MAX) return { kind: 'invalid', reason: `${bytes.length} bytes is too large` };
  return parseCheckpointText(bytes.toString('utf8'), parseEntry);
}

/** Parses checkpoint text with `parseEntry` for each entry line (null: malformed). Pure. */
export function parseCheckpointText<T>(text: string, parseEntry: (line: string) => T | null): CheckpointRead<T> {
  if (!text.endsWith('\n')) return { kind: 'invalid', reason: 'does not end with a newline (torn write?)' };
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== String(CHECKPOINT_VERSION)) return { kind: 'invalid', reason: `unknown version line ${JSON.stringify(lines[0]?.slice(0, 20))}` };
  const count = parseNonNegativeInteger(lines[1]);
  if (count === null || count !== lines.length - 2) return { kind: 'invalid', reason: `count line does not match ${lines.length - 2} entries` };
  const entries: T[] = [];
  for (const line of lines.slice(2)) {
    const entry = parseEntry(line);
    if (entry === null) return { kind: 'invalid', reason: `malformed entry ${JSON.stringify(line.slice(0, 80))}` };
    entries.push(entry);
  }
  return { kind: 'read', entries };
}

/** A decimal of at most 16 digits within the safe-integer range, or null. */
export function parseNonNegativeInteger(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
