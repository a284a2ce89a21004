import { describe, expect, it } from 'vitest';
import { decidePartition, electLeader, removedFromIsr } from '../../../src/cluster/leader-election.js';
import type { PartitionState, TopicConfig } from '../../../src/cluster/metadata-store.js';
import { brokersLiveForAtLeast, electPreferredLeader } from '../../../src/cluster/preferred-leader.js';
import { mulberry32 } from '../../helpers/random.js';

const CLEAN: TopicConfig = { minInsyncReplicas: 1, uncleanLeaderElection: false };
const UNCLEAN: TopicConfig = { minInsyncReplicas: 1, uncleanLeaderElection: true };

function state(leaderId: number | null, leaderEpoch: number, replicas: number[], isr: number[]): PartitionState {
  return { leaderId, leaderEpoch, replicas, isr };
}

function live(...ids: number[]): Set<number> {
  return new Set(ids);
}

describe('electLeader', () => {
  it('changes nothing while the leader is live and every ISR member is live', () => {
    expect(electLeader(state(1, 4, [1, 2, 3], [1, 2, 3]), CLEAN, live(1, 2, 3))).toBeNull();
    expect(electLeader(state(2, 4, [1, 2, 3], [2]), CLEAN, live(1, 2, 3))).toBeNull();
  });

  it('drops a dead follower from the ISR and keeps the leader and its epoch', () => {
    const decision = electLeader(state(1, 4, [1, 2, 3], [1, 2, 3]), CLEAN, live(1, 3));
    expect(decision).toEqual({ state: state(1, 4, [1, 2, 3], [1, 3]), reason: 'isr-shrink' });
  });

  it('replaces a dead leader with the first live ISR member in replicas order and bumps the epoch', () => {
    // ISR order does not matter; replicas order does.
    const decision = electLeader(state(1, 4, [1, 2, 3], [1, 3, 2]), CLEAN, live(2, 3));
    expect(decision).toEqual({ state: state(2, 5, [1, 2, 3], [3, 2]), reason: 'clean-election' });
  });

  it('never elects a live replica outside the ISR when the topic does not allow unclean election', () => {
    const decision = electLeader(state(1, 4, [1, 2, 3], [1, 3]), CLEAN, live(2, 3));
    expect(decision?.state.leaderId).toBe(3);
    expect(decision?.state.isr).toEqual([3]);
  });

  it('elects a leaderless partition once an ISR member is live', () => {
    const decision = electLeader(state(null, 7, [1, 2], [2]), CLEAN, live(1, 2));
    expect(decision).toEqual({ state: state(2, 8, [1, 2], [2]), reason: 'clean-election' });
  });

  it('leaves the partition without a leader, its ISR whole, when no ISR member is live', () => {
    const decision = electLeader(state(1, 4, [1, 2, 3], [1, 2]), CLEAN, live(3));
    expect(decision).toEqual({ state: state(null, 5, [1, 2, 3], [1, 2]), reason: 'leader-lost' });
    // And then nothing more happens until an ISR member returns.
    expect(electLeader(decision!.state, CLEAN, live(3))).toBeNull();
    expect(electLeader(decision!.state, CLEAN, live())).toBeNull();
  });

  it('keeps the last ISR member when it dies as leader, so that it is elected when it returns', () => {
    const lost = electLeader(state(2, 3, [1, 2, 3], [2]), CLEAN, live(1, 3))!.state;
    expect(lost).toEqual(state(null, 4, [1, 2, 3], [2]));
    expect(electLeader(lost, CLEAN, live(1, 2, 3))?.state).toEqual(state(2, 5, [1, 2, 3], [2]));
  });

  it('elects the first live replica with an ISR of itself alone when the topic allows unclean election', () => {
    const decision = electLeader(state(1, 4, [1, 2, 3], [1]), UNCLEAN, live(3, 2));
    expect(decision).toEqual({ state: state(2, 5, [1, 2, 3], [2]), reason: 'unclean-election' });
  });

  it('prefers a clean candidate even when unclean election is allowed', () => {
    const decision = electLeader(state(1, 4, [1, 2, 3], [1, 3]), UNCLEAN, live(2, 3));
    expect(decision).toEqual({ state: state(3, 5, [1, 2, 3], [3]), reason: 'clean-election' });
  });

  it('has nobody to elect, clean or not, when no replica is live', () => {
    expect(electLeader(state(1, 0, [1, 2], [1, 2]), UNCLEAN, live(3))?.state).toEqual(state(null, 1, [1, 2], [1, 2]));
  });

  it('keeps an empty ISR empty and leaderless unless unclean election is allowed', () => {
    expect(electLeader(state(null, 2, [1, 2], []), CLEAN, live(1, 2))).toBeNull();
    expect(electLeader(state(null, 2, [1, 2], []), UNCLEAN, live(2))?.state).toEqual(state(2, 3, [1, 2], [2]));
  });

  it('asserts that the state it is given keeps the store\'s invariants', () => {
    expect(() => electLeader(state(4, 0, [1, 2], [1, 2]), CLEAN, live(1))).toThrow(/assertion failed/);
    expect(() => electLeader(state(1, 0, [1, 2], [1, 3]), CLEAN, live(1))).toThrow(/assertion failed/);
  });
});

describe('preferred-leader rebalancing', () => {
  it('moves leadership back to replicas[0] when it is eligible and in the ISR, bumping the epoch', () => {
    expect(electPreferredLeader(state(2, 5, [1, 2, 3], [2, 3, 1]), live(1, 2, 3))).toEqual(state(1, 6, [1, 2, 3], [2, 3, 1]));
  });

  it('does nothing while the preferred replica leads, is out of the ISR, or is not eligible', () => {
    expect(electPreferredLeader(state(1, 5, [1, 2], [1, 2]), live(1, 2))).toBeNull();
    expect(electPreferredLeader(state(2, 5, [1, 2], [2]), live(1, 2))).toBeNull();
    expect(electPreferredLeader(state(2, 5, [1, 2], [1, 2]), live(2))).toBeNull();
  });

  it('counts a broker eligible once it has been live for at least the delay', () => {
    const since = new Map([[1, 1_000], [2, 1_500], [3, 2_000]]);
    expect([...brokersLiveForAtLeast(since, 2_000, 500)].sort()).toEqual([1, 2]);
    expect([...brokersLiveForAtLeast(since, 2_000, 0)].sort()).toEqual([1, 2, 3]);
  });

  it('combines with an ISR shrink into one write and one epoch bump', () => {
    const decision = decidePartition(state(2, 5, [1, 2, 3], [1, 2, 3]), CLEAN, live(1, 2), live(1, 2));
    expect(decision).toEqual({ state: state(1, 6, [1, 2, 3], [1, 2]), reason: 'preferred-election' });
  });

  it('never moves leadership to a preferred replica that is not live, whatever the eligible set says', () => {
    expect(decidePartition(state(2, 5, [1, 2], [1, 2]), CLEAN, live(2), live(1, 2))?.state).toEqual(state(2, 5, [1, 2], [2]));
  });

  it('is not part of a pass that does not rebalance', () => {
    expect(decidePartition(state(2, 5, [1, 2], [1, 2]), CLEAN, live(1, 2), null)).toBeNull();
  });
});

// Random states over brokers 1..6 with random live sets: every decision keeps the invariants.
describe('decisions over random states', () => {
  const BROKER_IDS = [1, 2, 3, 4, 5, 6];
  const CASES = 5_000;

  function randomCase(random: () => number): { before: PartitionState; config: TopicConfig; liveIds: Set<number>; eligible: Set<number> | null } {
    const shuffled = [...BROKER_IDS].sort(() => random() - 0.5);
    const replicas = shuffled.slice(0, 1 + Math.floor(random() * 4));
    const isr = replicas.filter(() => random() < 0.6);
    const leaderId = isr.length > 0 && random() < 0.8 ? isr[Math.floor(random() * isr.length)]! : null;
    const liveIds = new Set(BROKER_IDS.filter(() => random() < 0.5));
    const eligible = random() < 0.5 ? null : new Set(BROKER_IDS.filter(() => random() < 0.7));
    const config = random() < 0.3 ? UNCLEAN : CLEAN;
    return { before: state(leaderId, Math.floor(random() * 10), replicas, isr), config, liveIds, eligible };
  }

  it(`keeps every invariant and reaches a fixpoint in one step (${CASES} seeded cases)`, () => {
    const random = mulberry32(0xc0ffee);
    for (let i = 0; i < CASES; i++) {
      const { before, config, liveIds, eligible } = randomCase(random);
      const decision = decidePartition(before, config, liveIds, eligible);
      const after = decision?.state ?? before;
      const context = JSON.stringify({ i, before, config, liveIds: [...liveIds], eligible: eligible && [...eligible], after });

      expect(after.replicas, context).toEqual(before.replicas);
      expect(after.isr.every((id) => after.replicas.includes(id)), context).toBe(true);
      if (after.leaderId !== null) {
        expect(after.isr, context).toContain(after.leaderId);
        expect(liveIds.has(after.leaderId), context).toBe(true);
      }
      expect(after.leaderEpoch, context).toBe(before.leaderEpoch + (after.leaderId === before.leaderId ? 0 : 1));
      if (before.isr.length > 0) expect(after.isr.length, context).toBeGreaterThan(0);
      if (decision === null) expect(after).toBe(before);
      else expect(decision.state, context).not.toEqual(before);

      const leaderWasValid = before.leaderId !== null && liveIds.has(before.leaderId);
      if (leaderWasValid && decision?.reason !== 'preferred-election') expect(after.leaderId, context).toBe(before.leaderId);
      // Clean: a new leader comes from the old ISR unless the topic allows otherwise.
      if (after.leaderId !== null && after.leaderId !== before.leaderId && !config.uncleanLeaderElection) {
        expect(before.isr, context).toContain(after.leaderId);
      }
      // A live ISR member is always elected when the leader is gone.
      const liveIsr = before.isr.filter((id) => liveIds.has(id));
      if (liveIsr.length > 0) expect(after.leaderId !== null && liveIds.has(after.leaderId), context).toBe(true);
      // With a live leader, dead brokers are out of the ISR; without one, the ISR is untouched.
      if (after.leaderId !== null && liveIds.has(after.leaderId)) expect(after.isr.every((id) => liveIds.has(id)), context).toBe(true);
      if (after.leaderId === null) expect(after.isr, context).toEqual(before.isr);
      if (decision !== null && decision.reason !== 'unclean-election') {
        expect(removedFromIsr(before, after).every((id) => !liveIds.has(id)), context).toBe(true);
      }

      expect(decidePartition(after, config, liveIds, eligible), context).toBeNull();
    }
  });
});
