import { describe, expect, it } from 'vitest';
import { OFFSETS_TOPIC, offsetsPartitionFor as clientPartitionFor } from '../../../src/client/group-partition.js';
import { OFFSETS_TOPIC as BROKER_OFFSETS_TOPIC } from '../../../src/group/group-offset-store.js';
import { offsetsPartitionFor as brokerPartitionFor } from '../../../src/group/offset-commit-record.js';
import { mulberry32 } from '../../helpers/random.js';

/** The client's copy of the group → __consumer_offsets partition hash must agree with the broker's. */

describe("the client's group placement", () => {
  it("agrees with the broker's on 20,000 seeded group names (ASCII, non-ASCII, surrogate pairs) and partition counts", () => {
    const random = mulberry32(0x6b0_5eed);
    const alphabet = ['a', 'Z', '0', '-', '_', '.', 'é', 'ß', '中', '😀', ' '];
    for (let index = 0; index < 20_000; index++) {
      const length = Math.floor(random() * 40);
      const group = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]!).join('');
      const partitionCount = 1 + Math.floor(random() * 1_000);
      expect(clientPartitionFor(group, partitionCount)).toBe(brokerPartitionFor(group, partitionCount));
    }
  });

  it('maps the group whose hash is Integer.MIN_VALUE to partition 0, as Kafka does', () => {
    // "polygenelubricants" is the classic Java string whose hashCode is Integer.MIN_VALUE.
    expect(clientPartitionFor('polygenelubricants', 7)).toBe(0);
    expect(brokerPartitionFor('polygenelubricants', 7)).toBe(0);
  });

  it('names the same internal topic', () => {
    expect(OFFSETS_TOPIC).toBe(BROKER_OFFSETS_TOPIC);
  });
});
