/** What retention needs to know of a segment. */
export interface RetainedSegment {
  /** The offset after its last batch. */
  readonly nextOffset: number;
  readonly sizeBytes: number;
  /** Its newest record's timestamp, or null when it has none. */
  readonly maxTimestamp: number | null;
}

/** The retention settings and where the log stands. */
export interface RetentionLimits {
  /** Delete old segments while the log is bigger than this; null keeps any size. */
  readonly retentionBytes: number | null;
  /** Delete segments whose newest record is older than this; null keeps any age. */
  readonly retentionMs: number | null;
  readonly nowMs: number;
  /** No segment holding this offset or a later one may go: consumers have not been allowed to read it. */
  readonly highWatermark: number;
}

/**
 * The oldest segments that retention deletes (Kafka's time and size retention), oldest first:
 * each past `retentionMs` or still beyond `retentionBytes`, stopping at the first that is
 * neither. Never the active (last) segment, and never one holding offsets at or above the high
 * watermark. Whole segments only, so the log may stay up to one segment over `retentionBytes`.
 */
export function segmentsPastRetention<S extends RetainedSegment>(segments: readonly S[], limits: RetentionLimits): S[] {
  const { retentionBytes, retentionMs } = limits;
  const candidates = segments.slice(0, -1).filter((segment) => segment.nextOffset <= limits.highWatermark);
  const doomed: S[] = [];
  let excessBytes = retentionBytes === null ? 0 : segments.reduce((sum, segment) => sum + segment.sizeBytes, 0) - retentionBytes;
  const cutoffMs = retentionMs === null ? null : limits.nowMs - retentionMs;
  for (const segment of candidates) {
    const tooOld = cutoffMs !== null && segment.maxTimestamp !== null && segment.maxTimestamp < cutoffMs;
    const tooBig = retentionBytes !== null && excessBytes - segment.sizeBytes >= 0;
    if (!tooOld && !tooBig) break;
    excessBytes -= segment.sizeBytes;
    doomed.push(segment);
  }
  return doomed;
}
