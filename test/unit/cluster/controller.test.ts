import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller, PARTITION_CAS_ATTEMPTS_MAX, type ControllerTimers } from '../../../src/cluster/controller.js';
import { decidePartition } from '../../../src/cluster/leader-election.js';
import type { PartitionState, TopicConfig } from '../../../src/cluster/metadata-store.js';
import { StandaloneMetadataStore } from '../../../src/cluster/standalone-metadata-store.js';
import { InMemoryMetadataStore } from '../../helpers/in-memory-metadata-store.js';
import { mulberry32 } from '../../helpers/random.js';
import { capturingLogger, makeTempDir } from '../../helpers/storage.js';

// The controller's logic against an in-memory fake of the MetadataStore contract, on a simulated
// clock. Against real etcd it is exercised by the cluster integration tests.

const REBALANCE_INTERVAL_MS = 60_000;
const REBALANCE_DELAY_MS = 10_000;
const RETRY_BACKOFF_MS = 1_000;

/** Timers on a simulated clock: nothing fires until the test advances it. */
class ManualTimers implements ControllerTimers {
  nowMs = 1_000_000;
  private nextHandle = 1;
  readonly pending = new Map<number, { readonly atMs: number; readonly callback: () => void }>();

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.pending.set(handle, { atMs: this.nowMs + delayMs, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves the clock forward by `ms`, firing due timers in time order and letting each pass finish. */
  async advance(ms: number, controller: Controller): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (let fired = 0; fired < 1_000; fired++) {
      const due = [...this.pending].filter(([, timer]) => timer.atMs <= targetMs).sort(([, a], [, b]) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].atMs);
      due[1].callback();
      await controller.idle();
    }
    this.nowMs = targetMs;
  }
}

interface Harness {
  readonly store: InMemoryMetadataStore;
  readonly timers: ManualTimers;
  readonly logLines: ReturnType<typeof capturingLogger>['lines'];
  readonly newController: () => Controller;
}

const controllers: Controller[] = [];

afterEach(async () => {
  for (const controller of controllers.splice(0)) await controller.stop();
});

function harness(liveBrokerIds: number[]): Harness {
  const store = new InMemoryMetadataStore();
  for (const id of liveBrokerIds) store.setBrokerLive(id, true);
  const timers = new ManualTimers();
  const { logger, lines: logLines } = capturingLogger();
  const newController = (): Controller => {
    const controller = new Controller({
      store, logger, timers, nowMs: () => timers.nowMs,
      leaderRebalanceIntervalMs: REBALANCE_INTERVAL_MS, leaderRebalanceDelayMs: REBALANCE_DELAY_MS, passRetryBackoffMs: RETRY_BACKOFF_MS,
    });
    controllers.push(controller);
    return controller;
  };
  return { store, timers, logLines, newController };
}

function state(leaderId: number | null, leaderEpoch: number, replicas: number[], isr: number[]): PartitionState {
  return { leaderId, leaderEpoch, replicas, isr };
}

function plain(value: PartitionState): PartitionState {
  return { leaderId: value.leaderId, leaderEpoch: value.leaderEpoch, replicas: [...value.replicas], isr: [...value.isr] };
}

describe('Controller: failover', () => {
  it('replaces a dead leader with the next live ISR member, bumps the epoch, and logs it', async () => {
    const { store, logLines, newController } = harness([1, 2, 3]);
    store.seedTopic('orders', [state(1, 0, [1, 2, 3], [1, 2, 3]), state(2, 0, [2, 3, 1], [2, 3, 1])]);
    const controller = newController();
    await controller.start();
    expect(store.compareAndSetCalls).toBe(0);

    store.setBrokerLive(1, false);
    await controller.idle();

    expect(plain(store.stateOf('orders', 0))).toEqual(state(2, 1, [1, 2, 3], [2, 3]));
    // A follower died: the ISR shrinks, the leader and its epoch stay.
    expect(plain(store.stateOf('orders', 1))).toEqual(state(2, 0, [2, 3, 1], [2, 3]));
    expect(controller.stats).toMatchObject({ cleanLeaderElections: 1, isrShrinks: 2, leadersLost: 0 });
    const line = logLines.find((entry) => entry.reason === 'clean-election');
    expect(line).toMatchObject({
      level: 30, component: 'controller', topic: 'orders', partition: 0,
      oldLeaderId: 1, newLeaderId: 2, oldLeaderEpoch: 0, newLeaderEpoch: 1, oldIsr: [1, 2, 3], newIsr: [2, 3],
    });
  });

  it('leaves a partition leaderless while no ISR member is live, and elects the first ISR member to return', async () => {
    const { store, newController } = harness([1, 2, 3]);
    store.seedTopic('t', [state(1, 3, [1, 2, 3], [1])]);
    const controller = newController();
    await controller.start();

    store.setBrokerLive(1, false);
    await controller.idle();
    expect(plain(store.stateOf('t', 0))).toEqual(state(null, 4, [1, 2, 3], [1]));
    expect(controller.stats.leadersLost).toBe(1);

    // A replica outside the ISR coming back changes nothing: it may not lead.
    store.setBrokerLive(2, false);
    await controller.idle();
    store.setBrokerLive(2, true);
    await controller.idle();
    expect(plain(store.stateOf('t', 0))).toEqual(state(null, 4, [1, 2, 3], [1]));

    store.setBrokerLive(1, true);
    await controller.idle();
    expect(plain(store.stateOf('t', 0))).toEqual(state(1, 5, [1, 2, 3], [1]));
  });

  it('elects a live replica outside the ISR only for a topic that allows unclean election', async () => {
    const { store, newController } = harness([1, 2]);
    store.seedTopic('strict', [state(1, 0, [1, 2], [1])]);
    store.seedTopic('lenient', [state(1, 0, [1, 2], [1])], { uncleanLeaderElection: true });
    const controller = newController();
    await controller.start();

    store.setBrokerLive(1, false);
    await controller.idle();

    expect(plain(store.stateOf('strict', 0))).toEqual(state(null, 1, [1, 2], [1]));
    expect(plain(store.stateOf('lenient', 0))).toEqual(state(2, 1, [1, 2], [2]));
    expect(controller.stats).toMatchObject({ uncleanLeaderElections: 1, leadersLost: 1, cleanLeaderElections: 0 });
  });

  it('elects a leader for a new topic whose partition has a dead leader', async () => {
    const { store, newController } = harness([2, 3]);
    const controller = newController();
    await controller.start();

    store.seedTopic('late', [state(1, 0, [1, 2, 3], [1, 2, 3])]);
    await controller.idle();

    expect(plain(store.stateOf('late', 0))).toEqual(state(2, 1, [1, 2, 3], [2, 3]));
  });
});

describe('Controller: lost compare-and-swap', () => {
  it('re-reads and decides again when another writer changed the partition between its read and its write', async () => {
    const { store, newController } = harness([1, 2, 3]);
    store.seedTopic('t', [state(1, 0, [1, 2, 3], [1, 2, 3])]);
    const controller = newController();
    await controller.start();
    const written: PartitionState[] = [];
    await store.watch((event) => { if (event.kind === 'partition-changed') written.push(plain(store.stateOf('t', 0))); });

    // Just before the controller's write lands, the old leader's last ISR change (dropping 2)
    // does: electing 2 would now be unclean.
    store.beforeCompareAndSet = () => {
      store.beforeCompareAndSet = null;
      store.writePartitionState('t', 0, state(1, 0, [1, 2, 3], [1, 3]));
    };
    const passesBefore = controller.stats.passes;
    store.setBrokerLive(1, false);
    await controller.idle();

    expect(written).toEqual([state(1, 0, [1, 2, 3], [1, 3]), state(3, 1, [1, 2, 3], [3])]);
    expect(controller.stats).toMatchObject({ casConflicts: 1, casGiveUps: 0, cleanLeaderElections: 1 });
    // The re-read happened within the pass; the one pass after it (for the two changes it saw)
    // found nothing to do.
    expect(controller.stats.passes - passesBefore).toBe(2);
  });

  it(`wins on its last attempt after ${PARTITION_CAS_ATTEMPTS_MAX - 1} lost races`, async () => {
    const { store, newController } = harness([1, 2]);
    store.seedTopic('t', [state(1, 0, [1, 2], [1, 2])]);
    const controller = newController();
    await controller.start();
    let interferences = PARTITION_CAS_ATTEMPTS_MAX - 1;
    store.beforeCompareAndSet = () => {
      if (interferences-- > 0) store.writePartitionState('t', 0, store.stateOf('t', 0));
    };
    const callsBefore = store.compareAndSetCalls;
    const passesBefore = controller.stats.passes;

    store.setBrokerLive(1, false);
    await controller.idle();

    expect(store.compareAndSetCalls - callsBefore).toBe(PARTITION_CAS_ATTEMPTS_MAX);
    expect(controller.stats.passes - passesBefore).toBe(2);
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2]));
    expect(controller.stats).toMatchObject({ casConflicts: PARTITION_CAS_ATTEMPTS_MAX - 1, casGiveUps: 0 });
  });

  it(`gives up on a partition for the pass after ${PARTITION_CAS_ATTEMPTS_MAX} lost races, and the other writer's change brings it back`, async () => {
    const { store, newController, logLines } = harness([1, 2]);
    store.seedTopic('t', [state(1, 0, [1, 2], [1, 2])]);
    const controller = newController();
    await controller.start();
    let interferences = PARTITION_CAS_ATTEMPTS_MAX;
    store.beforeCompareAndSet = () => {
      if (interferences-- > 0) store.writePartitionState('t', 0, store.stateOf('t', 0));
    };

    store.setBrokerLive(1, false);
    await controller.idle();

    expect(controller.stats).toMatchObject({ casConflicts: PARTITION_CAS_ATTEMPTS_MAX, casGiveUps: 1 });
    expect(logLines.some((entry) => entry.level === 40 && entry.attempts === PARTITION_CAS_ATTEMPTS_MAX)).toBe(true);
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2]));
  });
});

describe('Controller: preferred-leader rebalancing', () => {
  it('moves leadership back to a returned preferred replica once it is in the ISR and has been live for the delay', async () => {
    const { store, timers, newController } = harness([1, 2]);
    store.seedTopic('t', [state(1, 0, [1, 2], [1, 2])]);
    const controller = newController();
    await controller.start();

    store.setBrokerLive(1, false);
    await controller.idle();
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2]));

    // Back, but not caught up: a follower, nothing to write.
    store.setBrokerLive(1, true);
    await controller.idle();
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2]));

    // The leader lets it back into the ISR; too soon for leadership to move.
    await timers.advance(REBALANCE_DELAY_MS / 2, controller);
    store.writePartitionState('t', 0, state(2, 1, [1, 2], [2, 1]));
    await controller.idle();
    await controller.requestRebalance();
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2, 1]));

    await timers.advance(REBALANCE_DELAY_MS / 2, controller);
    expect(plain(store.stateOf('t', 0))).toEqual(state(1, 2, [1, 2], [2, 1]));
    expect(controller.stats.preferredLeaderElections).toBe(1);
  });

  it('rebalances on its interval a preferred replica that joined the ISR after the delay had passed', async () => {
    const { store, timers, newController } = harness([1, 2]);
    store.seedTopic('t', [state(2, 4, [1, 2], [2])]);
    const controller = newController();
    await controller.start();

    await timers.advance(REBALANCE_DELAY_MS, controller);
    expect(store.stateOf('t', 0).leaderId).toBe(2);
    store.writePartitionState('t', 0, state(2, 4, [1, 2], [2, 1]));
    await controller.idle();
    expect(store.stateOf('t', 0).leaderId).toBe(2);

    await timers.advance(REBALANCE_INTERVAL_MS, controller);
    expect(plain(store.stateOf('t', 0))).toEqual(state(1, 5, [1, 2], [2, 1]));
  });
});

describe('Controller: lifecycle', () => {
  it('converges from the store alone: a fresh controller on a state left by failures fixes every partition', async () => {
    const { store, newController } = harness([2, 3]);
    store.seedTopic('a', [
      state(1, 7, [1, 2, 3], [1, 2, 3]), // dead leader
      state(2, 1, [2, 1], [2, 1]), // dead follower
      state(null, 3, [1, 3], [3]), // leaderless, its ISR member is back
      state(null, 2, [1, 2], [1]), // leaderless, nobody clean
    ]);
    store.seedTopic('b', [state(3, 0, [3, 1], [3, 1])], { uncleanLeaderElection: true });
    const controller = newController();
    await controller.start();

    expect([0, 1, 2, 3].map((p) => plain(store.stateOf('a', p)))).toEqual([
      state(2, 8, [1, 2, 3], [2, 3]),
      state(2, 1, [2, 1], [2]),
      state(3, 4, [1, 3], [3]),
      state(null, 2, [1, 2], [1]),
    ]);
    expect(plain(store.stateOf('b', 0))).toEqual(state(3, 0, [3, 1], [3]));

    // A controller elected after this one finds nothing to do.
    await controller.stop();
    const callsBefore = store.compareAndSetCalls;
    await newController().start();
    expect(store.compareAndSetCalls).toBe(callsBefore);
  });

  it('serves a burst of changes that arrive during a pass with one more pass', async () => {
    const { store, newController } = harness([1, 2, 3]);
    const controller = newController();
    await controller.start();
    const passesBefore = controller.stats.passes;

    for (const id of [1, 2, 3]) store.setBrokerLive(id, false);
    for (const id of [1, 2]) store.setBrokerLive(id, true);
    await controller.idle();

    expect(controller.stats.passes - passesBefore).toBe(2);
  });

  it('stop() removes its watch and every timer, and nothing is written afterwards', async () => {
    const { store, timers, newController } = harness([1, 2]);
    store.seedTopic('t', [state(1, 0, [1, 2], [1, 2])]);
    const controller = newController();
    await controller.start();
    store.setBrokerLive(2, false);
    store.setBrokerLive(2, true);
    await controller.idle();
    expect(timers.pending.size).toBeGreaterThan(0);

    await controller.stop();

    expect(timers.pending.size).toBe(0);
    expect(store.watcherCount).toBe(0);
    const callsBefore = store.compareAndSetCalls;
    store.setBrokerLive(1, false);
    await controller.requestRebalance();
    await controller.idle();
    expect(store.compareAndSetCalls).toBe(callsBefore);
    expect(store.stateOf('t', 0).leaderId).toBe(1);
  });

  it('stop() during a pass waits for it and the pass writes nothing more', async () => {
    const { store, newController } = harness([2]);
    store.seedTopic('t', Array.from({ length: 20 }, () => state(1, 0, [1, 2], [1, 2])));
    const controller = newController();
    const starting = controller.start();
    let stopping: Promise<void> | null = null;
    store.beforeCompareAndSet = () => { stopping ??= controller.stop(); };
    await starting;
    await stopping;

    expect(store.compareAndSetCalls).toBe(1);
    expect(store.stateOf('t', 1).leaderId).toBe(1);
    expect(store.watcherCount).toBe(0);
  });

  it('retries a pass that failed because the store was unreachable', async () => {
    const { store, timers, newController, logLines } = harness([1, 2]);
    store.seedTopic('t', [state(1, 0, [1, 2], [1, 2])]);
    const controller = newController();
    await controller.start();

    store.failWith = new Error('etcd unavailable');
    store.setBrokerLive(1, false);
    await controller.idle();
    expect(controller.stats.passFailures).toBe(1);
    expect(logLines.some((entry) => entry.level === 40 && entry.retryInMs === RETRY_BACKOFF_MS)).toBe(true);
    expect(store.stateOf('t', 0).leaderId).toBe(1);

    store.failWith = null;
    await timers.advance(RETRY_BACKOFF_MS, controller);
    expect(plain(store.stateOf('t', 0))).toEqual(state(2, 1, [1, 2], [2]));
  });
});

describe('Controller: standalone store', () => {
  it('finds nothing to change on a standalone broker, where the one broker leads every partition', async () => {
    const { dir, cleanup } = await makeTempDir('sluice-controller-');
    const broker = { brokerId: 1, host: '127.0.0.1', port: 9092 };
    const store = await StandaloneMetadataStore.open({ dataDir: dir, broker, partitionCountMax: 10, nowMs: () => 0 });
    try {
      await store.registerBroker(broker);
      await store.createTopic({ name: 'solo', partitionCount: 3, replicationFactor: 1 });
      const timers = new ManualTimers();
      const controller = new Controller({
        store, logger: pino({ level: 'silent' }), timers, nowMs: () => timers.nowMs,
        leaderRebalanceIntervalMs: REBALANCE_INTERVAL_MS, leaderRebalanceDelayMs: 0, passRetryBackoffMs: RETRY_BACKOFF_MS,
      });
      await controller.start();
      await controller.requestRebalance();
      await controller.stop();
      expect(controller.stats).toMatchObject({ cleanLeaderElections: 0, isrShrinks: 0, preferredLeaderElections: 0, passFailures: 0 });
      expect((await store.getPartitionState('solo', 2))?.value).toMatchObject({ leaderId: 1, leaderEpoch: 0, isr: [1] });
    } finally {
      await store.close();
      await cleanup();
    }
  });
});

// Random failures and returns over a bounded number of steps: after each, once the controller
// is idle, every partition is at the fixpoint of the pure decision and has never been led
// uncleanly.
describe('Controller: random failures', () => {
  it('converges after every step of 300 seeded random broker deaths, returns and ISR rejoins', async () => {
    const random = mulberry32(20_240_611);
    const brokerIds = [1, 2, 3, 4];
    const { store, newController } = harness(brokerIds);
    const config: TopicConfig = { minInsyncReplicas: 1, uncleanLeaderElection: false };
    for (let t = 0; t < 3; t++) {
      store.seedTopic(`t${t}`, Array.from({ length: 4 }, (_, p) => {
        const replicas = [0, 1, 2].map((r) => brokerIds[(t + p + r) % brokerIds.length]!);
        return state(replicas[0]!, 0, replicas, replicas);
      }));
    }
    const live = new Set(brokerIds);
    const history = new Map<string, PartitionState>();
    let controller = newController();
    await controller.start();

    for (let step = 0; step < 300; step++) {
      const roll = random();
      const brokerId = brokerIds[Math.floor(random() * brokerIds.length)]!;
      if (roll < 0.4) {
        store.setBrokerLive(brokerId, !live.has(brokerId));
        if (live.has(brokerId)) live.delete(brokerId); else live.add(brokerId);
      } else if (roll < 0.9) {
        rejoinIsr(store, `t${Math.floor(random() * 3)}`, Math.floor(random() * 4), live, random);
      } else {
        // A new controller takes over with no history.
        await controller.stop();
        controller = newController();
        await controller.start();
      }
      await controller.idle();
      for (let t = 0; t < 3; t++) {
        for (let p = 0; p < 4; p++) {
          const now = store.stateOf(`t${t}`, p);
          const context = `step ${step}: t${t}-${p} ${JSON.stringify(now)} live [${[...live].join(',')}]`;
          expect(decidePartition(now, config, live, null), context).toBeNull();
          const before = history.get(`t${t}-${p}`);
          if (before !== undefined && now.leaderId !== null && now.leaderId !== before.leaderId) {
            expect(before.isr, context).toContain(now.leaderId);
          }
          if (before !== undefined) expect(now.leaderEpoch, context).toBeGreaterThanOrEqual(before.leaderEpoch);
          history.set(`t${t}-${p}`, now);
        }
      }
    }
  });
});

// What a live leader does when a follower catches up: it writes the follower back into the ISR.
function rejoinIsr(store: InMemoryMetadataStore, topic: string, partition: number, live: ReadonlySet<number>, random: () => number): void {
  const current = store.stateOf(topic, partition);
  if (current.leaderId === null || !live.has(current.leaderId)) return;
  const candidates = current.replicas.filter((id) => live.has(id) && !current.isr.includes(id));
  const joining = candidates[Math.floor(random() * candidates.length)];
  if (joining === undefined) return;
  store.writePartitionState(topic, partition, { ...current, isr: [...current.isr, joining] });
}
