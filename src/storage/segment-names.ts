/**
 * File names of a segment: its base offset as 20 zero-padded digits, as Kafka names them, so
 * that a directory listing sorts in offset order.
 */
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';

const BASE_OFFSET_DIGITS = 20;
const SEGMENT_FILE_PATTERN = /^(\d{20})\.log$/;

/** `00000000000000000042` for base offset 42. */
export function segmentFilePrefix(baseOffset: number): string {
  return String(baseOffset).padStart(BASE_OFFSET_DIGITS, '0');
}

/** The base offset named by a `.log` file name, or null for any other file. */
export function parseLogFileName(fileName: string): number | null {
  const match = SEGMENT_FILE_PATTERN.exec(fileName);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : null;
}

/** `<topic>-<partition>`: the directory of one partition inside a data directory. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits a partition directory name at its last dash; null when it is not one. */
export function parsePartitionDirName(dirName: string): { topic: string; partition: number } | null {
  const match = /^(.+)-(\d+)$/.exec(dirName);
  if (match === null) return null;
  const partition = Number(match[2]);
  return Number.isSafeInteger(partition) ? { topic: match[1]!, partition } : null;
}
