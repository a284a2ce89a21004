import { assert } from '../errors/assert.js';
import type { PartitionState, TopicConfig } from './metadata-store.js';
import { electPreferredLeader } from './preferred-leader.js';

/**
 * The controller's decisions for one partition, as pure functions of plain values: the state read
 * from the metadata store, the topic's config and the set of live brokers in, the state to write
 * out (or null: nothing to write). The driver (controller.ts) reads, decides here, and writes by
 * compare-and-swap; nothing here knows about the store, time or the network.
 *
 * The rules are Kafka's (docs/controller.md):
 * - a live leader in the ISR stays; only dead brokers leave the ISR, never its last member;
 * - a dead or missing leader is replaced by the first replica, in `replicas` order, that is live
 *   and in the ISR (a clean election: it has every acknowledged record);
 * - with none, and only if the topic allows it, by the first live replica, whose ISR is then
 *   itself alone (an unclean election: acknowledged records may be lost);
 * - with none at all, the partition has no leader and its ISR is kept, so that whichever ISR
 *   member comes back first is elected cleanly;
 * - every change of leader (to null included) bumps `leaderEpoch` by one.
 */

/** Why a partition's state changes; each has its own counter and log line. */
export type DecisionReason =
  /** A live ISR member replaced a dead or missing leader. */
  | 'clean-election'
  /** A live replica outside the ISR became leader: the topic allows unclean election. */
  | 'unclean-election'
  /** The leader died and no replica may replace it: the partition is offline. */
  | 'leader-lost'
  /** The leader stays; dead brokers left the ISR. */
  | 'isr-shrink'
  /** Leadership moved back to the preferred replica (`replicas[0]`). */
  | 'preferred-election';

/** A state to write, and why. */
export interface PartitionDecision {
  readonly state: PartitionState;
  readonly reason: DecisionReason;
}

/**
 * The state a partition must move to now that `liveBrokerIds` are the live brokers, or null when
 * it is right as it is. Applying it to its own result with the same live set gives null.
 */
export function electLeader(state: PartitionState, config: TopicConfig, liveBrokerIds: ReadonlySet<number>): PartitionDecision | null {
  assertPartitionStateValid(state);
  const decision = state.leaderId !== null && liveBrokerIds.has(state.leaderId)
    ? shrinkIsr(state, liveBrokerIds)
    : replaceLeader(state, config, liveBrokerIds);
  if (decision !== null) assertDecisionValid(state, decision.state);
  return decision;
}

/**
 * What one controller pass writes for a partition: the election above, then, when
 * `preferredEligibleBrokerIds` is given (a rebalancing pass), a move back to the preferred replica
 * if it is among them and live. One write, and at most one epoch bump: an election already picks the
 * preferred replica whenever it is live and in the ISR.
 */
export function decidePartition(
  state: PartitionState,
  config: TopicConfig,
  liveBrokerIds: ReadonlySet<number>,
  preferredEligibleBrokerIds: ReadonlySet<number> | null,
): PartitionDecision | null {
  const elected = electLeader(state, config, liveBrokerIds);
  if (preferredEligibleBrokerIds === null) return elected;
  const afterElection = elected?.state ?? state;
  const eligible = new Set([...preferredEligibleBrokerIds].filter((id) => liveBrokerIds.has(id)));
  const preferred = electPreferredLeader(afterElection, eligible);
  if (preferred === null) return elected;
  assert(afterElection.leaderId === state.leaderId, 'a rebalance never follows a leader change in the same pass');
  assertDecisionValid(state, preferred);
  return { state: preferred, reason: 'preferred-election' };
}

/** The ISR members a decision removed (dead brokers, or everyone but an unclean leader). */
export function removedFromIsr(before: PartitionState, after: PartitionState): number[] {
  return before.isr.filter((id) => !after.isr.includes(id));
}

/** Asserts the invariants every stored partition state keeps (metadata-store.ts). */
export function assertPartitionStateValid(state: PartitionState): void {
  assert(state.replicas.length > 0, 'a partition has at least one replica');
  assert(new Set(state.replicas).size === state.replicas.length, `replicas [${state.replicas.join(',')}] are distinct`);
  assert(new Set(state.isr).size === state.isr.length, `isr [${state.isr.join(',')}] is distinct`);
  assert(state.isr.every((id) => state.replicas.includes(id)), `isr [${state.isr.join(',')}] is within replicas [${state.replicas.join(',')}]`);
  assert(state.leaderId === null || state.isr.includes(state.leaderId), `leader ${state.leaderId} is in isr [${state.isr.join(',')}]`);
  assert(Number.isSafeInteger(state.leaderEpoch) && state.leaderEpoch >= 0, 'leaderEpoch is a non-negative integer');
}

function shrinkIsr(state: PartitionState, liveBrokerIds: ReadonlySet<number>): PartitionDecision | null {
  const isr = state.isr.filter((id) => liveBrokerIds.has(id));
  if (isr.length === state.isr.length) return null;
  return { state: withLeader(state, state.leaderId, state.leaderEpoch, isr), reason: 'isr-shrink' };
}

function replaceLeader(state: PartitionState, config: TopicConfig, liveBrokerIds: ReadonlySet<number>): PartitionDecision | null {
  const nextEpoch = state.leaderEpoch + 1;
  const clean = state.replicas.find((id) => liveBrokerIds.has(id) && state.isr.includes(id));
  if (clean !== undefined) {
    const isr = state.isr.filter((id) => liveBrokerIds.has(id));
    return { state: withLeader(state, clean, nextEpoch, isr), reason: 'clean-election' };
  }
  const unclean = config.uncleanLeaderElection ? state.replicas.find((id) => liveBrokerIds.has(id)) : undefined;
  if (unclean !== undefined) return { state: withLeader(state, unclean, nextEpoch, [unclean]), reason: 'unclean-election' };
  // Nobody may lead. The ISR stays whole: its members are the only clean candidates, and the
  // first of them to come back must be electable.
  if (state.leaderId === null) return null;
  return { state: withLeader(state, null, nextEpoch, state.isr), reason: 'leader-lost' };
}

function withLeader(state: PartitionState, leaderId: number | null, leaderEpoch: number, isr: readonly number[]): PartitionState {
  return Object.freeze({
    leaderId, leaderEpoch, replicas: state.replicas, isr: Object.freeze([...isr]),
  });
}

function assertDecisionValid(before: PartitionState, after: PartitionState): void {
  assertPartitionStateValid(after);
  assert(after.replicas === before.replicas, 'a decision never reassigns replicas');
  assert(before.isr.length === 0 || after.isr.length > 0, 'a decision never empties the ISR');
  const leaderChanged = after.leaderId !== before.leaderId;
  assert(after.leaderEpoch === before.leaderEpoch + (leaderChanged ? 1 : 0), 'the leader epoch moves by one exactly when the leader changes');
}
