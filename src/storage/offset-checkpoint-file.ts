import { formatCheckpoint, parseCheckpointText, parseNonNegativeInteger, readCheckpointFile, type CheckpointRead as CheckpointReadOf } from './checkpoint-text.js';
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
 * Written atomically (temp, fsync, rename, fsync directory); read as checkpoint-text.ts says.
 */

/** A partition's offset as a checkpoint records it. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Either the entries, or why the file could not be believed. */
export type CheckpointRead = CheckpointReadOf<PartitionOffset>;

/** Writes the checkpoint atomically. */
export async function writeOffsetCheckpoint(path: string, entries: readonly PartitionOffset[]): Promise<void> {
  await writeFileAtomically(path, formatCheckpoint(entries.map((entry) => `${entry.topic} ${entry.partition} ${entry.offset}`)));
}

/** Reads a checkpoint; never throws for bad contents, only reports them. */
export function readOffsetCheckpoint(path: string): Promise<CheckpointRead> {
  return readCheckpointFile(path, parseEntry);
}

/** Parses checkpoint text; pure, for tests and for the reader above. */
export function parseOffsetCheckpoint(text: string): CheckpointRead {
  return parseCheckpointText(text, parseEntry);
}

function parseEntry(line: string): PartitionOffset | null {
  const fields = line.split(' ');
  if (fields.length !== 3 || fields[0] === '') return null;
  const partition = parseNonNegativeInteger(fields[1]);
  const offset = parseNonNegativeInteger(fields[2]);
  if (partition === null || offset === null) return null;
  return { topic: fields[0]!, partition, offset };
}
