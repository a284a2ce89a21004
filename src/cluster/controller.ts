import type { Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { decidePartition, removedFromIsr, type DecisionReason, type PartitionDecision } from './leader-election.js';
import type { MetadataEvent, MetadataStore, PartitionState, TopicConfig, TopicMetadata } from './metadata-store.js';
import { brokersLiveForAtLeast } from './preferred-leader.js';

/**
 * The cluster controller: while this broker is controller, it keeps every partition led by a live
 * replica (ARCHITECTURE.md section 4, docs/controller.md). It reads the metadata store, decides
 * with the pure functions of leader-election.ts and writes each partition's new state by
 * compare-and-swap on the version it read, so a decision based on a stale read never lands.
 *
 * It keeps no history the store does not have: a new controller reads the store and converges.
 * Its only in-memory state is derived and disposable: when it first saw each live broker (for the
 * rebalance delay), its counters, and the passes requested.
 *
 * Passes run one at a time. A pass requested while one runs is merged into a single next pass,
 * so a storm of events costs at most one extra pass.
 */

/**
 * Attempts of read, decide, compare-and-swap for one partition in one pass. Another writer (a
 * leader changing its ISR) wins a race only by writing, which is itself an event that asks for
 * another pass, so giving up after a few lost races loses nothing.
 */
export const PARTITION_CAS_ATTEMPTS_MAX = 5;

/** Timers, injectable so that tests run the controller on a simulated clock. */
export interface ControllerTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a Controller is made with. */
export interface ControllerOptions {
  readonly store: MetadataStore;
  readonly logger: Logger;
  /** How often a rebalancing pass moves leadership back to preferred replicas. */
  readonly leaderRebalanceIntervalMs: number;
  /** How long a preferred replica must have been live before leadership moves back to it. */
  readonly leaderRebalanceDelayMs: number;
  /** Wait before retrying a pass that failed (the store unreachable, for instance). */
  readonly passRetryBackoffMs: number;
  readonly nowMs: () => number;
  readonly timers?: ControllerTimers;
}

/** Counters of what the controller wrote, for metrics. Derived; they restart at zero. */
export interface ControllerStats {
  /** Leaders elected from the ISR to replace a dead or missing one. */
  readonly cleanLeaderElections: number;
  /** Leaders elected from outside the ISR (topics with uncleanLeaderElection). */
  readonly uncleanLeaderElections: number;
  /** Partitions left without a leader: no replica could take over. */
  readonly leadersLost: number;
  /** Partition states written with fewer ISR members (dead brokers removed). */
  readonly isrShrinks: number;
  /** Leadership moved back to the preferred replica. */
  readonly preferredLeaderElections: number;
  /** Compare-and-swaps lost to another writer (each followed by a re-read). */
  readonly casConflicts: number;
  /** Partitions given up on for one pass after PARTITION_CAS_ATTEMPTS_MAX lost races. */
  readonly casGiveUps: number;
  /** Passes that failed (store errors) and were retried after passRetryBackoffMs. */
  readonly passFailures: number;
  /** Passes completed. */
  readonly passes: number;
}

type MutableStats = { -readonly [K in keyof ControllerStats]: ControllerStats[K] };

// What a pass covers. `topics` maps a topic to the partitions to look at (null: all of them).
interface PassRequest {
  full: boolean;
  rebalance: boolean;
  readonly topics: Map<string, Set<number> | null>;
}

const STAT_OF_REASON: Readonly<Record<DecisionReason, keyof ControllerStats>> = {
  'clean-election': 'cleanLeaderElections',
  'unclean-election': 'uncleanLeaderElections',
  'leader-lost': 'leadersLost',
  'isr-shrink': 'isrShrinks',
  'preferred-election': 'preferredLeaderElections',
};

const DEFAULT_TIMERS: ControllerTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Drives leader election and rebalancing while this broker is controller. Single use: start once, stop once. */
export class Controller {
  private phase: 'new' | 'running' | 'stopped' = 'new';
  private unwatch: (() => void) | null = null;
  private pending: PassRequest | null = null;
  private loop: Promise<void> | null = null;
  private readonly timerHandles = new Set<unknown>();
  private retryArmed = false;
  // When each live broker was first seen live by this controller; brokers live when it started
  // count from then, as nothing tells how long they had been up.
  private readonly liveSinceMs = new Map<number, number>();
  private readonly counters: MutableStats = {
    cleanLeaderElections: 0, uncleanLeaderElections: 0, leadersLost: 0, isrShrinks: 0,
    preferredLeaderElections: 0, casConflicts: 0, casGiveUps: 0, passFailures: 0, passes: 0,
  };
  private readonly timers: ControllerTimers;
  private readonly log: Logger;

  constructor(private readonly options: ControllerOptions) {
    assert(options.leaderRebalanceIntervalMs > 0, 'leaderRebalanceIntervalMs is positive');
    assert(options.leaderRebalanceDelayMs >= 0, 'leaderRebalanceDelayMs is not negative');
    assert(options.passRetryBackoffMs > 0, 'passRetryBackoffMs is positive');
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.log = options.logger.child({ component: 'controller' });
  }

  /** A copy of the counters. */
  get stats(): ControllerStats {
    return Object.freeze({ ...this.counters });
  }

  /**
   * Watches the store, then runs a full pass over every partition; resolves when that pass is
   * done (or has failed and a retry is armed). Call when this broker is elected controller. If
   * the watch cannot be established it rejects; call stop() then.
   */
  async start(): Promise<void> {
    assert(this.phase === 'new', 'a Controller starts once');
    this.phase = 'running';
    // Watch first, then read: every change after the first read is then seen (metadata-store.ts).
    const unwatch = await this.options.store.watch((event) => this.onEvent(event));
    if (this.phase !== 'running') {
      unwatch();
      return;
    }
    this.unwatch = unwatch;
    this.log.info('controller started');
    this.armRebalanceTimer();
    await this.requestPass({ full: true, rebalance: false, topics: new Map() });
  }

  /** Stops watching, clears every timer and waits for the pass under way; nothing runs afterwards. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    this.unwatch?.();
    this.unwatch = null;
    for (const handle of this.timerHandles) this.timers.clearTimeout(handle);
    this.timerHandles.clear();
    this.pending = null;
    await this.loop;
    if (wasRunning) this.log.info('controller stopped');
  }

  /** Resolves once no pass runs and none is pending; for tests and orderly shutdown. */
  async idle(): Promise<void> {
    while (this.loop !== null) await this.loop;
  }

  /** Asks for a rebalancing pass now (what the timer does), whatever the interval. */
  requestRebalance(): Promise<void> {
    return this.requestPass({ full: true, rebalance: true, topics: new Map() });
  }

  private onEvent(event: MetadataEvent): void {
    switch (event.kind) {
      case 'brokers-changed':
        void this.requestPass({ full: true, rebalance: false, topics: new Map() });
        return;
      case 'topic-created':
        void this.requestPass({ full: false, rebalance: false, topics: new Map([[event.topic, null]]) });
        return;
      case 'partition-changed':
        void this.requestPass({ full: false, rebalance: false, topics: new Map([[event.topic, new Set([event.partition])]]) });
        return;
      case 'topic-deleted':
      case 'controller-changed':
        return;
    }
  }

  // Merges the request into the pending one and makes sure the loop runs; resolves when the
  // loop has drained, so a caller's request has been served.
  private requestPass(request: PassRequest): Promise<void> {
    if (this.phase !== 'running') return Promise.resolve();
    this.pending = this.pending === null ? request : mergeRequests(this.pending, request);
    this.loop ??= this.drain();
    return this.loop;
  }

  // Runs passes while any is pending. `loop` is cleared in the same synchronous step that finds
  // nothing pending, so a request never joins a loop that has already decided to end.
  private async drain(): Promise<void> {
    try {
      while (this.pending !== null && this.phase === 'running') {
        const request = this.pending;
        this.pending = null;
        await this.runPassOrArmRetry(request);
      }
    } finally {
      this.loop = null;
    }
  }

  private async runPassOrArmRetry(request: PassRequest): Promise<void> {
    try {
      await this.runPass(request);
      this.counters.passes += 1;
    } catch (error) {
      if (isAssertion(error)) throw error;
      this.counters.passFailures += 1;
      this.log.warn({ err: error, retryInMs: this.options.passRetryBackoffMs }, 'controller pass failed; retrying');
      this.armRetry();
    }
  }

  private async runPass(request: PassRequest): Promise<void> {
    const brokers = await this.options.store.listBrokers();
    const live = new Set(brokers.map((broker) => broker.brokerId));
    this.observeLiveBrokers(live);
    const eligible = request.rebalance
      ? brokersLiveForAtLeast(this.liveSinceMs, this.options.nowMs(), this.options.leaderRebalanceDelayMs)
      : null;
    for (const { topic, config, partition } of await this.candidatesOf(request, live, eligible)) {
      if (this.phase !== 'running') return;
      await this.settlePartition(topic, partition, config, live, eligible);
    }
  }

  // The partitions of the pass whose listed state calls for a change: the whole cluster for a
  // full pass, otherwise the topics and partitions named (those since deleted are skipped).
  // Deciding on the listing first costs one read per topic instead of one per partition; a
  // partition it shows as fine and that changes later does so by a write, whose event asks for
  // another pass (the watch is set before any listing).
  private async candidatesOf(
    request: PassRequest, live: ReadonlySet<number>, eligible: ReadonlySet<number> | null,
  ): Promise<Array<{ topic: string; config: TopicConfig; partition: number }>> {
    const store = this.options.store;
    const listed: Array<[TopicMetadata, ReadonlySet<number> | null]> = [];
    if (request.full) {
      for (const topic of await store.listTopics()) listed.push([topic, null]);
    } else {
      for (const [name, partitions] of request.topics) {
        const topic = await store.getTopic(name);
        if (topic !== null) listed.push([topic, partitions]);
      }
    }
    const candidates: Array<{ topic: string; config: TopicConfig; partition: number }> = [];
    for (const [topic, only] of listed) {
      topic.partitions.forEach((state, partition) => {
        if (only !== null && !only.has(partition)) return;
        if (decidePartition(state, topic.config, live, eligible) === null) return;
        candidates.push({ topic: topic.name, config: topic.config, partition });
      });
    }
    return candidates;
  }

  // Read, decide, compare-and-swap on the version read; a lost race re-reads and decides again.
  private async settlePartition(
    topic: string, partition: number, config: TopicConfig, live: ReadonlySet<number>, eligible: ReadonlySet<number> | null,
  ): Promise<void> {
    const store = this.options.store;
    for (let attempt = 1; attempt <= PARTITION_CAS_ATTEMPTS_MAX; attempt++) {
      const read = await store.getPartitionState(topic, partition);
      if (read === null) return;
      const decision = decidePartition(read.value, config, live, eligible);
      if (decision === null) return;
      if (this.phase !== 'running') return;
      const version = await store.compareAndSetPartitionState(topic, partition, read.version, decision.state);
      if (version !== null) {
        this.record(topic, partition, read.value, decision);
        return;
      }
      this.counters.casConflicts += 1;
      this.log.debug({ topic, partition, attempt }, 'partition state changed under the controller; re-reading');
    }
    this.counters.casGiveUps += 1;
    this.log.warn({ topic, partition, attempts: PARTITION_CAS_ATTEMPTS_MAX }, 'gave up on a partition for this pass: its state keeps changing');
  }

  private record(topic: string, partition: number, before: PartitionState, decision: PartitionDecision): void {
    const after = decision.state;
    this.counters[STAT_OF_REASON[decision.reason]] += 1;
    // An election can shrink the ISR too; count every write that did, once.
    if (decision.reason !== 'isr-shrink' && removedFromIsr(before, after).length > 0) this.counters.isrShrinks += 1;
    const fields = {
      topic, partition, reason: decision.reason,
      oldLeaderId: before.leaderId, newLeaderId: after.leaderId,
      oldLeaderEpoch: before.leaderEpoch, newLeaderEpoch: after.leaderEpoch,
      oldIsr: before.isr, newIsr: after.isr,
    };
    // Losing a leader, or electing one that may lack acknowledged records, is what an operator
    // must notice; the rest is routine.
    if (decision.reason === 'leader-lost' || decision.reason === 'unclean-election') this.log.warn(fields, 'partition leader changed');
    else this.log.info(fields, decision.reason === 'isr-shrink' ? 'partition isr shrunk' : 'partition leader changed');
  }

  // Keeps liveSinceMs to the live brokers; a broker seen for the first time (a return) gets a
  // rebalancing pass once it has been live for leaderRebalanceDelayMs.
  private observeLiveBrokers(live: ReadonlySet<number>): void {
    const nowMs = this.options.nowMs();
    for (const brokerId of [...this.liveSinceMs.keys()]) {
      if (!live.has(brokerId)) this.liveSinceMs.delete(brokerId);
    }
    let anyReturned = false;
    for (const brokerId of live) {
      if (this.liveSinceMs.has(brokerId)) continue;
      this.liveSinceMs.set(brokerId, nowMs);
      anyReturned = true;
    }
    if (anyReturned) this.after(this.options.leaderRebalanceDelayMs, () => { void this.requestRebalance(); });
  }

  private armRebalanceTimer(): void {
    this.after(this.options.leaderRebalanceIntervalMs, () => {
      this.armRebalanceTimer();
      void this.requestRebalance();
    });
  }

  private armRetry(): void {
    if (this.retryArmed) return;
    this.retryArmed = true;
    this.after(this.options.passRetryBackoffMs, () => {
      this.retryArmed = false;
      void this.requestPass({ full: true, rebalance: false, topics: new Map() });
    });
  }

  // A one-shot timer that stop() clears; it does nothing once the controller stopped.
  private after(delayMs: number, callback: () => void): void {
    if (this.phase !== 'running') return;
    const handle = this.timers.setTimeout(() => {
      this.timerHandles.delete(handle);
      if (this.phase === 'running') callback();
    }, delayMs);
    this.timerHandles.add(handle);
  }
}

function mergeRequests(a: PassRequest, b: PassRequest): PassRequest {
  const topics = new Map(a.topics);
  for (const [name, partitions] of b.topics) {
    const existing = topics.get(name);
    if (existing === null || partitions === null) topics.set(name, null);
    else topics.set(name, new Set([...(existing ?? []), ...partitions]));
  }
  return { full: a.full || b.full, rebalance: a.rebalance || b.rebalance, topics };
}

function isAssertion(error: unknown): boolean {
  return error instanceof Error && error.name === 'AssertionError';
}
