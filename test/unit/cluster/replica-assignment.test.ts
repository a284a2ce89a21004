import { describe, expect, it } from 'vitest';
import { assignReplicas } from '../../../src/cluster/replica-assignment.js';
import { SluiceError } from '../../../src/errors/index.js';

describe('assignReplicas', () => {
  it('spreads preferred leaders evenly and gives each partition distinct replicas', () => {
    const assignment = assignReplicas(6, 3, [3, 1, 2], 0);
    expect(assignment).toEqual([[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3], [2, 3, 1], [3, 1, 2]]);
    for (const replicas of assignment) expect(new Set(replicas).size).toBe(3);
  });

  it('moves the first preferred leader with startIndex, modulo the broker count', () => {
    expect(assignReplicas(2, 1, [1, 2, 3], 4).map((replicas) => replicas[0])).toEqual([2, 3]);
    expect(assignReplicas(1, 2, [1, 2, 3], -1)).toEqual([[3, 1]]);
  });

  it('refuses a replication factor above the live broker count, or below 1, with INVALID_REPLICATION_FACTOR', () => {
    for (const factor of [0, 4]) {
      let caught: unknown = null;
      try {
        assignReplicas(1, factor, [1, 2, 3], 0);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SluiceError);
      expect((caught as SluiceError).errorName).toBe('INVALID_REPLICATION_FACTOR');
    }
  });
});
