/**
 * What a partition log needs to know. Defaults, units and reasons live in src/config/; the
 * storage layer takes the values as given and only asserts that they are sane.
 */
export interface LogConfig {
  /** Roll the active segment before it would grow past this many bytes. */
  readonly segmentBytes: number;
  /** Roll the active segment once its first batch is this old. */
  readonly segmentMs: number;
  /** Add a sparse index entry after at least this many bytes of log since the last one. */
  readonly indexIntervalBytes: number;
  /** Cap on each index file of a segment; a full index rolls the segment. */
  readonly indexBytesMax: number;
  /** Largest batch the log accepts or believes when scanning, header included. */
  readonly batchBytesMax: number;
  /** Delete old segments while the log is bigger than this; null keeps any size. */
  readonly retentionBytes: number | null;
  /** Delete segments whose newest record is older than this; null keeps any age. */
  readonly retentionMs: number | null;
  /** Most bytes one group commit writes (and one fsync covers) before it starts another. */
  readonly groupCommitBytesMax: number;
  /** A group of at most this many bytes is written on the calling thread instead of the thread pool (0: never). */
  readonly inlineWriteBytesMax: number;
  /** Newest bytes kept in memory for readers at the tail (0: none). */
  readonly tailCacheBytesMax: number;
}
