import type { PartitionState } from './metadata-store.js';

/**
 * Preferred-leader rebalancing (Kafka's "preferred replica election"). Replica assignment spreads
 * the preferred leaders (`replicas[0]`) evenly over the brokers; failovers pile leadership onto
 * the survivors, and nothing moves it back when the others return. Rebalancing does, once the
 * preferred replica is live, in the ISR (so caught up: no acknowledged record is lost) and has
 * been live long enough not to be a broker that is flapping.
 */

/**
 * The state with leadership moved to the preferred replica, or null when it already leads or may
 * not: it must be in `eligibleBrokerIds` (live long enough) and in the ISR.
 */
export function electPreferredLeader(state: PartitionState, eligibleBrokerIds: ReadonlySet<number>): PartitionState | null {
  const preferred = state.replicas[0];
  if (preferred === undefined || state.leaderId === preferred) return null;
  if (!eligibleBrokerIds.has(preferred) || !state.isr.includes(preferred)) return null;
  return Object.freeze({ leaderId: preferred, leaderEpoch: state.leaderEpoch + 1, replicas: state.replicas, isr: state.isr });
}

/** The brokers that have been live for at least `delayMs` at `nowMs`, given when each was first seen live. */
export function brokersLiveForAtLeast(liveSinceMs: ReadonlyMap<number, number>, nowMs: number, delayMs: number): Set<number> {
  const eligible = new Set<number>();
  for (const [brokerId, sinceMs] of liveSinceMs) {
    if (nowMs - sinceMs >= delayMs) eligible.add(brokerId);
  }
  return eligible;
}
