import { describe, expect, it } from 'vitest';
import {
  TOPIC_NAME_LENGTH_MAX, isInternalTopicName, topicCollisionKey, validateNoTopicCollision, validatePartitionCount,
  validateReplicationFactor, validateTopicName,
} from '../../../src/cluster/topic-rules.js';

describe('topic names', () => {
  it('accepts every allowed character class, and single characters', () => {
    expect(validateTopicName('orders')).toBeNull();
    expect(validateTopicName('Orders.EU-west_1')).toBeNull();
    expect(validateTopicName('a')).toBeNull();
    expect(validateTopicName('-')).toBeNull();
    expect(validateTopicName('_')).toBeNull();
    expect(validateTopicName('...')).toBeNull();
    expect(validateTopicName('0123456789')).toBeNull();
  });

  it('accepts 249 characters and refuses 250, saying how long it is', () => {
    expect(TOPIC_NAME_LENGTH_MAX).toBe(249);
    expect(validateTopicName('x'.repeat(249))).toBeNull();
    const error = validateTopicName('x'.repeat(250));
    expect(error?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(error?.message).toContain('250 characters');
  });

  it('refuses the empty name', () => {
    expect(validateTopicName('')?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it("refuses '.' and '..', which name directories", () => {
    expect(validateTopicName('.')?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(validateTopicName('..')?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it.each([
    ' ', '/', '\\', ':', '*', '?', '"', '<', '>', '|', '+', '=', ',', ';', '#', '@', '!', '%', '&', '$', '~', '`',
    "'", '(', ')', '[', ']', '{', '}', '^', '\n', '\t', '\u0000', 'é', 'ß', '日', '😀', '\u00a0',
  ])('refuses a name containing %j, and names the character', (character) => {
    const error = validateTopicName(`ab${character}cd`);
    expect(error?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(error?.message).toContain(JSON.stringify(character));
  });

  it("refuses every ASCII character outside [a-zA-Z0-9._-] and accepts every one inside", () => {
    for (let code = 0; code < 128; code++) {
      const character = String.fromCharCode(code);
      const allowed = /[a-zA-Z0-9._-]/.test(character);
      expect(validateTopicName(`t${character}`) === null, `char code ${code}`).toBe(allowed);
    }
  });

  it("refuses '__'-prefixed names unless internal topics are allowed", () => {
    expect(validateTopicName('__x')?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(validateTopicName('__consumer_offsets')?.message).toContain('internal');
    expect(validateTopicName('__consumer_offsets', { allowInternal: true })).toBeNull();
    expect(validateTopicName('_x')).toBeNull();
    expect(validateTopicName('x__')).toBeNull();
    expect(isInternalTopicName('__x')).toBe(true);
    expect(isInternalTopicName('_x')).toBe(false);
  });

  it('applies every other rule to internal names too', () => {
    expect(validateTopicName('__a/b', { allowInternal: true })?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(validateTopicName(`__${'x'.repeat(248)}`, { allowInternal: true })?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
  });
});

describe('topic name collisions', () => {
  it("treats '.' and '_' as the same character", () => {
    expect(topicCollisionKey('a.b')).toBe(topicCollisionKey('a_b'));
    expect(topicCollisionKey('a.b')).not.toBe(topicCollisionKey('a-b'));
  });

  it("refuses 'a_b' next to 'a.b' (and the reverse), naming the existing topic", () => {
    const error = validateNoTopicCollision('a_b', ['orders', 'a.b']);
    expect(error?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(error?.message).toContain('"a.b"');
    expect(validateNoTopicCollision('a.b', ['a_b'])?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(validateNoTopicCollision('x.y_z', ['x_y.z'])?.errorName).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it('does not count an identical name, or a different one, as a collision', () => {
    expect(validateNoTopicCollision('a.b', ['a.b'])).toBeNull();
    expect(validateNoTopicCollision('a.b', ['a-b', 'ab', 'a..b'])).toBeNull();
    expect(validateNoTopicCollision('a.b', [])).toBeNull();
  });
});

describe('partition count and replication factor', () => {
  it('accepts partition counts in [1, partitionCountMax] and refuses the boundaries outside', () => {
    expect(validatePartitionCount(1, 10_000)).toBeNull();
    expect(validatePartitionCount(10_000, 10_000)).toBeNull();
    for (const count of [0, -1, 10_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(validatePartitionCount(count, 10_000)?.errorName, String(count)).toBe('INVALID_PARTITIONS');
    }
  });

  it('accepts replication factors in [1, brokerCount] and refuses the others', () => {
    expect(validateReplicationFactor(1, 1)).toBeNull();
    expect(validateReplicationFactor(3, 3)).toBeNull();
    for (const factor of [0, -1, 2, 1.5, Number.NaN]) {
      expect(validateReplicationFactor(factor, 1)?.errorName, String(factor)).toBe('INVALID_REPLICATION_FACTOR');
    }
    expect(validateReplicationFactor(2, 1)?.message).toContain('[1, 1]');
  });
});
