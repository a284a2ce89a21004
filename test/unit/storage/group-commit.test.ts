import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/sluice-error.js';
import { GroupCommitter, type GroupCommitSink } from '../../../src/storage/group-commit.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { appendConcurrently, expectSluiceError, expectedRecords, planBatch, readAllRecords, seededRandom } from '../../helpers/log-assertions.js';
import { makeTempDir, openLog } from '../../helpers/storage.js';

type SinkEvent =
  | { readonly kind: 'write start' | 'write end'; readonly items: readonly string[] }
  | { readonly kind: 'sync start' | 'sync end'; readonly syncId: number }
  | { readonly kind: 'resolved' | 'rejected'; readonly item: string }
  | { readonly kind: 'exclusive start' | 'exclusive end'; readonly item: string; readonly groupsInFlight: number };

/** Lets every pending promise callback and I/O-free continuation run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * An in-memory sink whose syncs complete only when the test says so. Writes take one turn of the
 * event loop. It records every step, and how many groups are between write start and sync end.
 */
class ControlledSink implements GroupCommitSink<string> {
  readonly events: SinkEvent[] = [];
  readonly writes: string[][] = [];
  groupsInFlight = 0;
  writeFailure: Error | null = null;
  private readonly pendingSyncs: Array<{ syncId: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private syncCount = 0;

  async write(items: readonly string[]): Promise<void> {
    this.groupsInFlight += 1;
    this.events.push({ kind: 'write start', items: [...items] });
    this.writes.push([...items]);
    await settle();
    if (this.writeFailure !== null) throw this.writeFailure;
    this.events.push({ kind: 'write end', items: [...items] });
  }

  sync(): Promise<void> {
    const syncId = this.syncCount++;
    this.events.push({ kind: 'sync start', syncId });
    return new Promise((resolve, reject) => {
      this.pendingSyncs.push({
        syncId,
        resolve: () => {
          this.events.push({ kind: 'sync end', syncId });
          this.groupsInFlight -= 1;
          resolve();
        },
        reject,
      });
    });
  }

  get syncPending(): boolean {
    return this.pendingSyncs.length > 0;
  }

  /** Waits (a bounded number of event-loop turns) until a sync is in flight. */
  async untilSyncPending(turnsMax = 100): Promise<void> {
    for (let turn = 0; turn < turnsMax && !this.syncPending; turn++) await settle();
  }

  /** Completes the sync in flight, then lets the committer react. */
  async finishSync(): Promise<void> {
    await this.untilSyncPending();
    const pending = this.pendingSyncs.shift();
    expect(pending).toBeDefined();
    pending!.resolve();
    await settle();
    await settle();
  }

  async failSync(error: Error): Promise<void> {
    await this.untilSyncPending();
    const pending = this.pendingSyncs.shift();
    expect(pending).toBeDefined();
    pending!.reject(error);
    await settle();
  }

  /** Finishes syncs as they come until every one of `promises` has settled (bounded). */
  async finishUntilSettled(promises: readonly Promise<unknown>[], stepsMax = 10_000): Promise<void> {
    let settled = false;
    void Promise.allSettled(promises).then(() => { settled = true; });
    for (let step = 0; !settled; step++) {
      expect(step).toBeLessThan(stepsMax);
      if (this.syncPending) await this.finishSync();
      else await settle();
    }
  }
}

interface Harness {
  readonly sink: ControlledSink;
  readonly committer: GroupCommitter<string>;
  readonly fatalErrors: Error[];
  /** Commits an item, recording its resolution or rejection in the sink's event log. */
  commit(item: string, sizeBytes?: number): Promise<void>;
  /** Queues an exclusive task that records when it runs and what was in flight then. */
  exclusive(name: string): Promise<void>;
}

function harness(groupBytesMax = 1024 * 1024): Harness {
  const sink = new ControlledSink();
  const fatalErrors: Error[] = [];
  const committer = new GroupCommitter(sink, groupBytesMax, (error) => { fatalErrors.push(error); });
  const record = (item: string, promise: Promise<void>): Promise<void> => {
    const recorded = promise.then(
      () => { sink.events.push({ kind: 'resolved', item }); },
      (error: unknown) => {
        sink.events.push({ kind: 'rejected', item });
        throw error;
      },
    );
    // Tests await rejections later; until then, a rejection is expected, not unhandled.
    recorded.catch(() => undefined);
    return recorded;
  };
  return {
    sink, committer, fatalErrors,
    commit: (item, sizeBytes = 10) => record(item, committer.commit(item, sizeBytes)),
    exclusive: (name) => record(name, committer.exclusive(async () => {
      sink.events.push({ kind: 'exclusive start', item: name, groupsInFlight: sink.groupsInFlight });
      await settle();
      sink.events.push({ kind: 'exclusive end', item: name, groupsInFlight: sink.groupsInFlight });
    })),
  };
}

/** The event log as short strings, for order assertions that read like the story they tell. */
function story(events: readonly SinkEvent[]): string[] {
  return events.map((event) => {
    if ('items' in event) return `${event.kind} ${event.items.join(',')}`;
    if ('syncId' in event) return `${event.kind} ${event.syncId}`;
    return `${event.kind} ${event.item}`;
  });
}

describe('GroupCommitter grouping', () => {
  it('writes items queued while a sync is in flight together in the next group: one write, one sync', async () => {
    const { sink, committer, commit } = harness();
    const first = commit('a');
    await settle();
    expect(sink.writes).toEqual([['a']]);
    const queued = ['b', 'c', 'd'].map((item) => commit(item));
    await settle();
    expect(sink.writes).toEqual([['a']]);
    await sink.finishSync();
    await first;
    expect(sink.writes).toEqual([['a'], ['b', 'c', 'd']]);
    await sink.finishSync();
    await Promise.all(queued);
    expect(story(sink.events)).toEqual([
      'write start a', 'write end a', 'sync start 0', 'sync end 0', 'resolved a',
      'write start b,c,d', 'write end b,c,d', 'sync start 1', 'sync end 1', 'resolved b', 'resolved c', 'resolved d',
    ]);
    expect(committer.stats).toEqual({ syncCount: 2, itemsSynced: 4, bytesSynced: 40 });
  });

  it('items committed in the same turn of the event loop share one group, so one fsync covers them all', async () => {
    const { sink, commit } = harness();
    // As producers woken together by one group's acks would append.
    const burst = ['a', 'b', 'c', 'd'].map((item) => commit(item));
    await sink.finishUntilSettled(burst);
    await Promise.all(burst);
    expect(sink.writes).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('items that arrive while a group is being written wait for the next group', async () => {
    const { sink, commit } = harness();
    const first = commit('a');
    await settle();
    // The write of [a] has started but not finished.
    expect(sink.writes).toEqual([['a']]);
    const late = commit('late');
    await sink.finishUntilSettled([first, late]);
    await Promise.all([first, late]);
    expect(sink.writes).toEqual([['a'], ['late']]);
  });

  it('never resolves an item before a sync that started after its write has ended (seeded random schedule)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const { sink, commit } = harness(60);
      const promises: Promise<void>[] = [];
      let next = 0;
      for (let step = 0; step < 2_000 && next < 300; step++) {
        const choice = random();
        if (choice < 0.6) promises.push(commit(`i${next++}`, 1 + Math.floor(random() * 30)));
        else if (choice < 0.85 && sink.syncPending) await sink.finishSync();
        else await settle();
      }
      await sink.finishUntilSettled(promises);
      await Promise.all(promises);
      expect(sink.writes.some((items) => items.length > 1)).toBe(true);
      expectDurableBeforeResolved(sink.events, next);
    }
  });
});

/** For every item: write end < sync start < sync end < resolved, for one sync. */
function expectDurableBeforeResolved(events: readonly SinkEvent[], itemCount: number): void {
  const writeEndAt = new Map<string, number>();
  const resolvedAt = new Map<string, number>();
  events.forEach((event, at) => {
    if (event.kind === 'write end') for (const item of event.items) writeEndAt.set(item, at);
    if (event.kind === 'resolved') resolvedAt.set(event.item, at);
  });
  expect(resolvedAt.size).toBe(itemCount);
  for (const [item, resolved] of resolvedAt) {
    const written = writeEndAt.get(item);
    expect(written).toBeDefined();
    const syncStart = events.findIndex((event, at) => at > written! && event.kind === 'sync start');
    expect(syncStart).toBeGreaterThan(written!);
    const startEvent = events[syncStart] as { syncId: number };
    const syncEnd = events.findIndex((event) => event.kind === 'sync end' && event.syncId === startEvent.syncId);
    expect({ item, syncEndBeforeResolution: syncEnd > syncStart && syncEnd < resolved }).toEqual({ item, syncEndBeforeResolution: true });
  }
  // Items resolve in the order they were committed.
  expect([...resolvedAt.keys()]).toEqual(Array.from({ length: itemCount }, (_, i) => `i${i}`));
}

describe('GroupCommitter groupBytesMax', () => {
  it('splits a queue into groups of at most groupBytesMax bytes; a larger item goes alone', async () => {
    const { sink, committer, commit } = harness(100);
    const promises = [commit('first', 10)];
    await settle();
    promises.push(
      commit('a', 60), commit('b', 40), // exactly 100: one group
      commit('c', 40), commit('d', 40), commit('e', 30), // 110 would exceed it
      commit('big', 150), commit('tail', 10),
    );
    await sink.finishUntilSettled(promises);
    await Promise.all(promises);
    expect(sink.writes).toEqual([['first'], ['a', 'b'], ['c', 'd'], ['e'], ['big'], ['tail']]);
    expect(committer.stats).toEqual({ syncCount: 6, itemsSynced: 8, bytesSynced: 380 });
  });
});

describe('GroupCommitter exclusive tasks', () => {
  it('run in queue order, each with no group in flight, after everything queued before them is durable', async () => {
    const { sink, commit, exclusive } = harness();
    const promises = [commit('a')];
    await settle();
    promises.push(commit('b'), exclusive('X'), commit('c'), exclusive('Y'), exclusive('Z'), commit('d'));
    await sink.finishUntilSettled(promises);
    await Promise.all(promises);
    // (An exclusive task's promise is observed a few microtasks after it ran; leave those out.)
    expect(story(sink.events).filter((line) => !/^resolved [XYZ]$/.test(line))).toEqual([
      'write start a', 'write end a', 'sync start 0', 'sync end 0', 'resolved a',
      'write start b', 'write end b', 'sync start 1', 'sync end 1', 'resolved b',
      'exclusive start X', 'exclusive end X',
      'write start c', 'write end c', 'sync start 2', 'sync end 2', 'resolved c',
      'exclusive start Y', 'exclusive end Y',
      'exclusive start Z', 'exclusive end Z',
      'write start d', 'write end d', 'sync start 3', 'sync end 3', 'resolved d',
    ]);
    const exclusiveEvents = sink.events.filter((event) => event.kind === 'exclusive start' || event.kind === 'exclusive end');
    expect(exclusiveEvents.every((event) => 'groupsInFlight' in event && event.groupsInFlight === 0)).toBe(true);
  });

  it('an item committed while an exclusive task runs waits for it to finish', async () => {
    const { sink, committer, commit } = harness();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const task = committer.exclusive(async () => {
      sink.events.push({ kind: 'exclusive start', item: 'T', groupsInFlight: sink.groupsInFlight });
      await gate;
      sink.events.push({ kind: 'exclusive end', item: 'T', groupsInFlight: sink.groupsInFlight });
    });
    await settle();
    const item = commit('during');
    await settle();
    expect(sink.writes).toEqual([]);
    release();
    await task;
    await sink.finishUntilSettled([item]);
    await item;
    expect(story(sink.events).slice(0, 3)).toEqual(['exclusive start T', 'exclusive end T', 'write start during']);
  });
});

describe('GroupCommitter failure', () => {
  it('a failing sync rejects its group and every queued item with KAFKA_STORAGE_ERROR and calls onFatal once', async () => {
    const { sink, committer, commit, exclusive, fatalErrors } = harness();
    const inFlight = commit('a');
    await settle();
    const queued = [commit('b'), exclusive('X'), commit('c')];
    const cause = new Error('EIO: fdatasync failed');
    await sink.failSync(cause);
    for (const promise of [inFlight, ...queued]) {
      const error = await expectSluiceError(promise, 'KAFKA_STORAGE_ERROR');
      expect(error.message).toContain('EIO: fdatasync failed');
      expect(error.cause).toBe(cause);
    }
    expect(fatalErrors).toEqual([cause]);
    expect(committer.failed).toBe(cause);
    expect(committer.stats).toEqual({ syncCount: 0, itemsSynced: 0, bytesSynced: 0 });
    expect(story(sink.events).filter((line) => line.startsWith('exclusive'))).toEqual([]);
  });

  it('after a failure, later commits and exclusive tasks reject at once without touching the sink', async () => {
    const { sink, committer, commit, fatalErrors } = harness();
    const first = commit('a');
    await settle();
    await sink.failSync(new Error('EIO'));
    await expectSluiceError(first, 'KAFKA_STORAGE_ERROR');
    const eventsBefore = sink.events.length;
    let ran = false;
    await expectSluiceError(committer.commit('later', 10), 'KAFKA_STORAGE_ERROR');
    await expectSluiceError(committer.exclusive(async () => { ran = true; }), 'KAFKA_STORAGE_ERROR');
    await settle();
    expect(ran).toBe(false);
    expect(sink.writes).toEqual([['a']]);
    expect(sink.events.length).toBe(eventsBefore);
    expect(sink.syncPending).toBe(false);
    expect(fatalErrors).toHaveLength(1);
  });

  it('a failing write is as fatal as a failing sync, and no sync follows it', async () => {
    const { sink, commit, fatalErrors } = harness();
    sink.writeFailure = new Error('ENOSPC');
    const error = await expectSluiceError(commit('a'), 'KAFKA_STORAGE_ERROR');
    expect(error.retriable).toBe(true);
    expect(fatalErrors).toEqual([sink.writeFailure]);
    expect(story(sink.events).filter((line) => line.startsWith('sync'))).toEqual([]);
  });

  it('a failing exclusive task is fatal too', async () => {
    const sink = new ControlledSink();
    const fatalErrors: Error[] = [];
    const committer = new GroupCommitter(sink, 1024, (error) => { fatalErrors.push(error); });
    const cause = new Error('truncate failed');
    await expectSluiceError(committer.exclusive(async () => { throw cause; }), 'KAFKA_STORAGE_ERROR');
    expect(fatalErrors).toEqual([cause]);
    await expectSluiceError(committer.commit('after', 1), 'KAFKA_STORAGE_ERROR');
    expect(sink.writes).toEqual([]);
  });

  it('rejections carry a SluiceError, never the raw cause', async () => {
    const { sink, commit } = harness();
    const promise = commit('a');
    await settle();
    await sink.failSync(new Error('EIO'));
    await expect(promise).rejects.toBeInstanceOf(SluiceError);
  });
});

describe('group commit in a real PartitionLog', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let log: PartitionLog | null = null;

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });

  afterEach(async () => {
    await log?.close();
    log = null;
    await cleanup();
  });

  it('2,000 concurrent small appends share far fewer fsyncs than appends, and all become durable', async () => {
    log = await openLog(dir);
    const appendCount = 2_000;
    const planned = Array.from({ length: appendCount }, (_, k) => planBatch(`g${k}`, 1, 20));
    const appended = await appendConcurrently(log, planned);
    const stats = log.commitStats;
    expect(stats.itemsSynced).toBe(appendCount);
    expect(stats.syncCount).toBeLessThan(appendCount / 2);
    expect(stats.bytesSynced).toBe(planned.reduce((sum, batch) => sum + batch.sizeBytes, 0));
    expect(log.flushedOffset).toBe(appendCount);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });
});
