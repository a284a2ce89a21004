import { afterEach, describe, expect, it } from 'vitest';
import { SendAdmission, type AdmissionCluster, type AdmissionEntry, type AdmissionLimits } from '../../../src/client/send-admission.js';

interface Ticket {
  readonly number: number;
  settled: boolean;
  outcome: string | null;
}

/** Lets pending promise callbacks and timers of 0 ms run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits (bounded: 200 turns of about 1 ms) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !condition(); turn++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(condition()).toBe(true);
}

/**
 * A producer's side of admission with plain values: a partition count per topic (metadata
 * "arrives" when a refresh is answered), a byte count of what is buffered, and the order in which
 * sends were admitted or failed.
 */
class Harness {
  readonly counts = new Map<string, number>();
  readonly topicErrors = new Map<string, number>();
  readonly refreshes: string[][] = [];
  readonly admitted: number[] = [];
  readonly failed: Array<[number, string]> = [];
  buffered = 0;
  flushThrough = 0;
  sealAllCalls = 0;
  nowMs = 1_000;
  /** What the next refresh learns. */
  onRefresh: (topics: readonly string[]) => void = () => {};
  private sendCount = 0;
  readonly admission: SendAdmission<Ticket>;

  constructor(readonly limits: AdmissionLimits, retries = 0) {
    const cluster: AdmissionCluster = {
      metadata: {
        partitionCountOf: (topic) => this.counts.get(topic) ?? null,
        topicErrorOf: (topic) => this.topicErrors.get(topic) ?? null,
      },
      settings: { retries },
      refresh: async (topics) => {
        this.refreshes.push([...topics]);
        await settle();
        this.onRefresh(topics);
      },
      backoffMs: () => 1,
    };
    this.admission = new SendAdmission<Ticket>({
      cluster, limits, nowMs: () => this.nowMs,
      bufferedBytes: () => this.buffered,
      closing: () => false,
      flushThrough: () => this.flushThrough,
      admit: (entry) => {
        this.admitted.push(entry.ticket.number);
        this.buffered += entry.boundBytes;
      },
      sealAll: () => { this.sealAllCalls += 1; },
      fail: (ticket, error) => {
        ticket.settled = true;
        ticket.outcome = error.message;
        this.failed.push([ticket.number, (error as { reason?: string }).reason ?? (error as { errorName?: string }).errorName ?? '']);
      },
    });
  }

  /** Offers one send of `valueBytes` to `topic`, as Producer.send() does. */
  send(topic: string, valueBytes = 100): AdmissionEntry<Ticket> {
    const ticket: Ticket = { number: ++this.sendCount, settled: false, outcome: null };
    const entry = this.admission.entryOf({ topic, value: new Uint8Array(valueBytes) }, ticket, this.nowMs);
    this.admission.refuseIfFull();
    this.admission.offer(entry, this.nowMs);
    return entry;
  }
}

const LIMITS: AdmissionLimits = { bufferBytesMax: 1_000, bufferWaitMsMax: 60_000, sendQueueLengthMax: 100 };
let harness: Harness | null = null;

afterEach(() => {
  harness?.admission.close();
  harness = null;
});

describe('send admission', () => {
  it('admits at once while metadata is known and the buffer has room, then queues in order until room frees', () => {
    const limits = { ...LIMITS, bufferBytesMax: 1_200 };
    const h = harness = new Harness(limits);
    h.counts.set('t', 3);
    const sizes = [300, 300, 300, 300, 10];
    const entries = sizes.map((bytes) => h.send('t', bytes));
    expect(h.admitted).toEqual([1, 2, 3]);
    expect(h.admission.length).toBe(2);
    // The small fifth send does not overtake the fourth, which has no room yet.
    expect(h.buffered + entries[4]!.boundBytes).toBeLessThanOrEqual(limits.bufferBytesMax);
    h.buffered -= entries[0]!.boundBytes + entries[1]!.boundBytes;
    h.admission.pump();
    expect(h.admitted).toEqual([1, 2, 3, 4, 5]);
    expect(h.admission.length).toBe(0);
  });

  it('admits a record larger than the whole buffer once the buffer is empty', () => {
    const h = harness = new Harness(LIMITS);
    h.counts.set('t', 1);
    const small = h.send('t', 10);
    h.send('t', 5_000);
    expect(h.admitted).toEqual([1]);
    h.buffered -= small.boundBytes;
    h.admission.pump();
    expect(h.admitted).toEqual([1, 2]);
  });

  it('refuses a send with buffer-full when sendQueueLengthMax sends already wait', () => {
    const h = harness = new Harness({ ...LIMITS, sendQueueLengthMax: 2 });
    h.counts.set('t', 1);
    h.buffered = LIMITS.bufferBytesMax;
    h.send('t');
    h.send('t');
    expect(() => h.send('t')).toThrow(expect.objectContaining({ reason: 'buffer-full' }));
    expect(h.admission.length).toBe(2);
  });

  it('fails sends that waited past bufferWaitMsMax with buffer-full, oldest first, and admits the rest later', async () => {
    const h = harness = new Harness({ ...LIMITS, bufferWaitMsMax: 5 });
    h.counts.set('t', 1);
    h.buffered = LIMITS.bufferBytesMax;
    h.send('t');
    h.send('t');
    h.nowMs += 3;
    h.send('t');
    h.nowMs += 3;
    await until(() => h.failed.length === 2);
    expect(h.failed).toEqual([[1, 'buffer-full'], [2, 'buffer-full']]);
    expect(h.admission.length).toBe(1);
    h.buffered = 0;
    h.admission.pump();
    expect(h.admitted).toEqual([3]);
  });

  it('waits for an unknown topic\'s metadata with one refresh for all its sends, then admits them in order', async () => {
    const h = harness = new Harness(LIMITS);
    h.counts.set('known', 1);
    h.onRefresh = () => h.counts.set('new', 2);
    h.send('new');
    h.send('new');
    // Behind the waiting sends, a send to a known topic waits too: admission keeps send order.
    h.send('known');
    expect(h.admitted).toEqual([]);
    await until(() => h.admitted.length === 3);
    expect(h.admitted).toEqual([1, 2, 3]);
    expect(h.refreshes).toEqual([['new']]);
  });

  it('fails the sends of a topic that cannot be had with its typed error, and admits the others', async () => {
    const h = harness = new Harness(LIMITS, 3);
    h.counts.set('known', 1);
    h.onRefresh = () => h.topicErrors.set('bad name', 17);
    h.send('bad name');
    h.send('known');
    await until(() => h.admitted.length === 1);
    expect(h.failed).toEqual([[1, 'INVALID_TOPIC_EXCEPTION']]);
    expect(h.admitted).toEqual([2]);
    // Not retriable: one Metadata request, not retries + 1.
    expect(h.refreshes).toHaveLength(1);
  });

  it('retries a retriable topic error a bounded number of times', async () => {
    const h = harness = new Harness(LIMITS, 2);
    h.onRefresh = () => h.topicErrors.set('coming', 3);
    h.send('coming');
    await until(() => h.failed.length === 1);
    expect(h.failed).toEqual([[1, 'UNKNOWN_TOPIC_OR_PARTITION']]);
    expect(h.refreshes).toHaveLength(3);
  });

  it('seals the open batches when it admits, late, a send made before a flush()', () => {
    const h = harness = new Harness(LIMITS);
    h.counts.set('t', 1);
    h.buffered = LIMITS.bufferBytesMax;
    h.send('t');
    h.flushThrough = 1;
    h.send('t');
    h.buffered = 0;
    h.admission.pump();
    expect(h.admitted).toEqual([1, 2]);
    expect(h.sealAllCalls).toBe(1);
  });

  it('skips sends settled while they waited, and hands the rest back on drain', () => {
    const h = harness = new Harness(LIMITS);
    h.counts.set('t', 1);
    h.buffered = LIMITS.bufferBytesMax;
    const first = h.send('t');
    h.send('t');
    h.send('t');
    first.ticket.settled = true;
    // Still no room for the second: the settled first is dropped, and nothing is admitted.
    h.admission.pump();
    expect(h.admitted).toEqual([]);
    expect(h.admission.drain().map((entry) => entry.ticket.number)).toEqual([2, 3]);
    expect(h.admission.length).toBe(0);
  });

  it('checks the record\'s fields when the send is made', () => {
    const h = harness = new Harness(LIMITS);
    const ticket: Ticket = { number: 1, settled: false, outcome: null };
    expect(() => h.admission.entryOf({ topic: 't', value: null, partition: -1 }, ticket, 0)).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    expect(() => h.admission.entryOf({ topic: 't', value: null, timestamp: 1.5 }, ticket, 0)).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    const entry = h.admission.entryOf({ topic: 't', key: 'k', value: 'v' }, ticket, 7);
    expect(entry.keyBytes).toEqual(new TextEncoder().encode('k'));
    expect(entry.timestamp).toBe(7);
    expect(entry.deadlineMs).toBe(7 + LIMITS.bufferWaitMsMax);
    expect(h.admission.entryOf({ topic: 't', key: 'k', value: 'v', partition: 0 }, ticket, 7).keyBytes).toBeNull();
  });
});
