import { describe, expect, it } from 'vitest';
import { countSyncCalls, refineAckMeaning } from '../../bench/compare/ack-check.js';
import type { AckCheck } from '../../bench/compare/compare-results.js';

const claimFsynced = { fsynced: true, description: 'fsync before ack', evidence: 'documented' };
const claimNot = { fsynced: false, description: 'page cache, fsync every second', evidence: 'documented' };

function traced(syncCalls: number, acks: number, byPid: Record<string, number> = { '7': syncCalls }): AckCheck {
  return { traced: true, syncCalls, acks, syncCallsByPid: byPid, note: '' };
}

describe('counting sync calls in strace output', () => {
  it('counts each fsync or fdatasync once, an interrupted one included, and nothing else', () => {
    const lines = [
      '[pid  4242] fdatasync(23)                = 0',
      'fsync(5)                                = 0',
      '[pid  4243] fdatasync(24 <unfinished ...>',
      '[pid  4243] <... fdatasync resumed>)     = 0',
      '[pid  4244] write(1, "fsync(", 6)        = 6',
      '+++ exited with 0 +++',
    ];
    expect(countSyncCalls(lines)).toBe(3);
  });
});

describe('what an acknowledgement meant, after the trace', () => {
  it('keeps a claim the trace bears out and cites the count', () => {
    const ack = refineAckMeaning(claimFsynced, traced(1_013, 1_000));
    expect(ack.fsynced).toBe(true);
    expect(ack.description).toBe('fsync before ack');
    expect(ack.evidence).toBe('strace -f: 1,013 fsync/fdatasync calls for 1,000 sequential acks');
  });

  it('lets the trace overrule a claim of durability when there are fewer syncs than acks', () => {
    const ack = refineAckMeaning(claimFsynced, traced(3, 1_000));
    expect(ack.fsynced).toBe(false);
    expect(ack.description).toContain('NOT what the trace shows');
  });

  it('shows the split between the processes of a cluster', () => {
    const ack = refineAckMeaning(claimFsynced, traced(3_000, 1_000, { '1': 1_000, '2': 1_000, '3': 1_000 }));
    expect(ack.evidence).toContain('(1,000 + 1,000 + 1,000 on 3 processes)');
  });

  it('keeps the claim and says why when nothing was traced', () => {
    const ack = refineAckMeaning(claimNot, { traced: false, syncCalls: null, acks: 1_000, syncCallsByPid: {}, note: 'strace is not on PATH' });
    expect(ack).toEqual({ ...claimNot, evidence: 'not traced (strace is not on PATH); documented' });
  });
});
