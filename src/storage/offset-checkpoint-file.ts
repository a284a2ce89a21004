import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './durable-file.js';

/**
 * A per-data-directory file of one offset per partition, in Kafka's OffsetCheckpointFile text
 * format, so the same tools read both:
 *
 *   0                  version
 *   2                  number of entries
 *   orders 0 1234      topic, partition, offset (one line each)
 *   orders 1 99
 *
 * Written atomically (temp, fsync, rename, fsync directory). Read defensively: any deviation
 * makes the whole file untrusted, because a half-believed checkpoint is worse than none.
 */

const CHECKPOINT_VERSION = 0;
/** Bounds the read: even 100k partitions fit well inside this. */
const CHECKPOINT_FILE_BYTES_MAX = 16 * 1024 * 1024;

/** A partition's offset as a checkpoint records it. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Either the entries, or why the file could not be believed. */
export type CheckpointRead =
  | { readonly kind: 'read'; readonly entries: readonly PartitionOffset[] }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Writes the checkpoint atomically. */
export async function writeOffsetCheckpoint(path: string, entries: readonly PartitionOffset[]): Promise<void> {
  const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
  for (const entry of entries) lines.push(`${entry.topic} ${entry.partition} ${entry.offset}`);
  await writeFileAtomically(path, `${lines.join('\n')}\n`);
}

/** Reads a checkpoint; never throws for bad contents, only reports them. */
export async function readOffsetCheckpoint(path: string): Promise<CheckpointRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: `unreadable: ${(error as Error).message}` };
  }
  if (bytes.length > CHECKPOINT_FILE_BYTES_MAX) return { kind: 'invalid', reason: `${bytes.length} bytes is too large` };
  return parseOffsetCheckpoint(bytes.toString('utf8'));
}

/** Parses checkpoint text; pure, for tests and for the reader above. */
export function parseOffsetCheckpoint(text: string): CheckpointRead {
  if (!text.endsWith('\n')) return { kind: 'invalid', reason: 'does not end with a newline (torn write?)' };
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== String(CHECKPOINT_VERSION)) return { kind: 'invalid', reason: `unknown version line ${JSON.stringify(lines[0]?.slice(0, 20))}` };
  const count = parseNonNegativeInteger(lines[1]);
  if (count === null || count !== lines.length - 2) return { kind: 'invalid', reason: `count line does not match ${lines.length - 2} entries` };
  const entries: PartitionOffset[] = [];
  for (const line of lines.slice(2)) {
    const entry = parseEntry(line);
    if (entry === null) return { kind: 'invalid', reason: `malformed entry ${JSON.stringify(line.slice(0, 80))}` };
    entries.push(entry);
  }
  return { kind: 'read', entries };
}

function parseEntry(line: string): PartitionOffset | null {
  const fields = line.split(' ');
  if (fields.length !== 3 || fields[0] === '') return null;
  const partition = parseNonNegativeInteger(fields[1]);
  const offset = parseNonNegativeInteger(fields[2]);
  if (partition === null || offset === null) return null;
  return { topic: fields[0]!, partition, offset };
}

function parseNonNegativeInteger(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
