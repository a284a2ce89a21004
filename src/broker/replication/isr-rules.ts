/**
 * The leader's bookkeeping of its followers, as pure functions (Kafka's Replica and Partition
 * rules): when a follower counts as caught up, what the high watermark is, who leaves and who
 * joins the ISR.
 */

/** What the leader knows of one follower, from its fetches. */
export interface FollowerProgress {
  /** The follower's log end offset: the offset it last asked for (it has fsynced all before). */
  readonly logEndOffset: number;
  /** The last time the follower was known to hold everything the leader had. */
  readonly lastCaughtUpMs: number;
  /** When its previous fetch arrived, and the leader's log end offset then. */
  readonly lastFetchMs: number;
  readonly lastFetchLeaderLogEndOffset: number;
}

/** Progress of a follower the leader has not heard from since it became leader at `nowMs`. */
export function unknownProgress(nowMs: number): FollowerProgress {
  return { logEndOffset: -1, lastCaughtUpMs: nowMs, lastFetchMs: nowMs, lastFetchLeaderLogEndOffset: Number.MAX_SAFE_INTEGER };
}

/**
 * The follower's progress after a fetch at `fetchOffset`. Kafka's rule: it is caught up now if it
 * asked for the leader's log end; it was caught up at its previous fetch if it now asks for at
 * least what the leader had then. Under steady produce a follower is rarely at the very end, so
 * the second clause is what keeps a healthy follower in the ISR.
 */
export function afterFetch(previous: FollowerProgress, fetchOffset: number, leaderLogEndOffset: number, nowMs: number): FollowerProgress {
  let lastCaughtUpMs = previous.lastCaughtUpMs;
  if (fetchOffset >= leaderLogEndOffset) lastCaughtUpMs = Math.max(lastCaughtUpMs, nowMs);
  else if (fetchOffset >= previous.lastFetchLeaderLogEndOffset) lastCaughtUpMs = Math.max(lastCaughtUpMs, previous.lastFetchMs);
  return { logEndOffset: fetchOffset, lastCaughtUpMs, lastFetchMs: nowMs, lastFetchLeaderLogEndOffset: leaderLogEndOffset };
}

/**
 * The high watermark: the least log end offset over the ISR, the leader's counted as its flushed
 * offset (acknowledged means fsynced on every ISR member). A member not heard from holds it where
 * it is; it never moves back.
 */
export function highWatermarkOf(current: number, leaderFlushedOffset: number, isr: readonly number[], leaderId: number, progress: ReadonlyMap<number, FollowerProgress>): number {
  let least = leaderFlushedOffset;
  for (const member of isr) {
    if (member === leaderId) continue;
    const follower = progress.get(member);
    if (follower === undefined || follower.logEndOffset < 0) return current;
    least = Math.min(least, follower.logEndOffset);
  }
  return Math.max(current, least);
}

/** ISR followers not caught up within `replicaLagTimeMaxMs`; the leader itself never lags. */
export function laggingFollowers(isr: readonly number[], leaderId: number, progress: ReadonlyMap<number, FollowerProgress>, nowMs: number, replicaLagTimeMaxMs: number): number[] {
  return isr.filter((member) => {
    if (member === leaderId) return false;
    const follower = progress.get(member);
    return follower === undefined || nowMs - follower.lastCaughtUpMs > replicaLagTimeMaxMs;
  });
}

/**
 * Followers outside the ISR that may join it: they hold everything up to the high watermark and
 * have fetched past the start of this leader's epoch (so they truncated whatever diverged).
 */
export function catchingUpFollowers(replicas: readonly number[], isr: readonly number[], progress: ReadonlyMap<number, FollowerProgress>, highWatermark: number, epochStartOffset: number): number[] {
  return replicas.filter((replica) => {
    if (isr.includes(replica)) return false;
    const follower = progress.get(replica);
    return follower !== undefined && follower.logEndOffset >= highWatermark && follower.logEndOffset >= epochStartOffset;
  });
}
