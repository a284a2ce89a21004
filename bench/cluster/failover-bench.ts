import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { formatMs } from '../common/table.js';
import type { BenchCluster, BrokerLogLine } from './cluster-processes.js';
import { checkExactlyOnce, type ReadRecord, type RecordCheck } from './record-check.js';
import { SteadyProducer } from './steady-producer.js';
import { controllerIdOf, waitForIsr, watchRegistrationGone } from './partition-state.js';

/**
 * Failover time: a steady idempotent acks=all producer on one partition of an RF 3 topic; the
 * partition's leader is SIGKILLed; the figure is the time from the SIGKILL to the first
 * acknowledgement that the new leader gave. Each round uses a fresh topic (leaders spread over
 * the three brokers) and kills the leader of a partition whose leader is not the controller, so
 * every round measures the same thing: lease expiry, one election by a live controller, the new
 * leader taking over, the client finding it. Then the killed broker is restarted and must rejoin
 * the ISR, and the partition is read back: every acknowledged record exactly once, or the bench
 * fails.
 */

/** How a failover run is sized. */
export interface FailoverSettings {
  readonly brokerSessionTimeoutMs: number;
  readonly rounds: number;
  readonly ratePerSecond: number;
  /** Producing before the kill (the producer has found the leader and settled). */
  readonly warmupMs: number;
  /** Producing after the first acknowledgement from the new leader. */
  readonly afterMs: number;
  readonly valueBytes: number;
}

/** Milliseconds after the SIGKILL at which each step was seen; null when it could not be seen. */
export interface FailoverBreakdownMs {
  /** The bench's etcd watch saw the killed broker's registration deleted (its lease expired). */
  readonly leaseExpired: number | null;
  /** The controller's "partition leader changed" log line (the new state is in etcd). */
  readonly electionWritten: number | null;
  /** The new leader's "leading" log line (it serves the partition). */
  readonly newLeaderServing: number | null;
}

export interface FailoverRound {
  readonly round: number;
  readonly topic: string;
  readonly partition: number;
  readonly killedBrokerId: number;
  readonly controllerId: number | null;
  readonly newLeaderId: number | null;
  /** SIGKILL → first acks=all acknowledgement from the new leader. */
  readonly failoverMs: number;
  readonly breakdownMs: FailoverBreakdownMs;
  /** Restart of the killed broker → its "broker started" line (log recovery after a crash included). */
  readonly restartMs: number;
  /** "broker started" → back in the partition's ISR. */
  readonly rejoinIsrMs: number;
  readonly recordsSent: number;
  readonly check: RecordCheck;
}

export interface MinMedianMax {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface FailoverFigures {
  readonly settings: FailoverSettings;
  readonly rounds: readonly FailoverRound[];
  readonly failoverMs: MinMedianMax;
  /** Median of each step over the rounds that saw it; null when none did. */
  readonly breakdownMedianMs: { readonly [K in keyof FailoverBreakdownMs]: number | null };
}

/** Longest wait for the new leader's first acknowledgement after the kill. */
const FAILOVER_WAIT_MS_MAX = 60_000;
/** Longest wait for topics to be fully replicated, and for a restarted broker to rejoin the ISR. */
const ISR_WAIT_MS_MAX = 60_000;
/** Longest wait for the failover's log lines once the new leader has acknowledged. */
const LOG_WAIT_MS_MAX = 5_000;
/** Longest wait for every send to settle once the producer stops, and for the read-back. */
const SETTLE_WAIT_MS_MAX = 60_000;
const PARTITIONS = 3;
const REPLICATION_FACTOR = 3;

/** Runs the failover rounds on a running 3-broker cluster (started with `settings.brokerSessionTimeoutMs`). */
export async function failoverBench(cluster: BenchCluster, settings: FailoverSettings, progress: (line: string) => void): Promise<FailoverFigures> {
  const etcd = cluster.etcd.client();
  const admin = new Admin({ brokers: cluster.urls(), webSocketFactory: nodeWebSocket, clientId: 'bench-admin' });
  const rounds: FailoverRound[] = [];
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      const label = `failover (session ${settings.brokerSessionTimeoutMs} ms) round ${round}/${settings.rounds}`;
      rounds.push(await failoverRound(cluster, etcd, admin, settings, round, (line) => progress(`${label}: ${line}`)));
    }
  } finally {
    admin.close();
    etcd.close();
  }
  return { settings, rounds, failoverMs: minMedianMax(rounds.map((r) => r.failoverMs)), breakdownMedianMs: breakdownMedians(rounds) };
}

async function failoverRound(
  cluster: BenchCluster, etcd: Etcd3, admin: Admin, settings: FailoverSettings, round: number, progress: (line: string) => void,
): Promise<FailoverRound> {
  const topic = `failover-${settings.brokerSessionTimeoutMs}-${round}`;
  await admin.createTopic(topic, PARTITIONS, REPLICATION_FACTOR);
  const described = await waitForIsr(admin, topic, REPLICATION_FACTOR, ISR_WAIT_MS_MAX);
  const controllerId = await controllerIdOf(etcd);
  // Rotate over the partitions led by a broker that is not the controller, so rounds kill different brokers.
  const eligible = described.partitions.filter((p) => p.leaderId !== controllerId);
  const target = eligible[(round - 1) % Math.max(1, eligible.length)] ?? described.partitions[0]!;
  const killedBrokerId = target.leaderId;
  const registration = await watchRegistrationGone(etcd, killedBrokerId);
  const producer = new Producer({
    brokers: cluster.urls(), webSocketFactory: nodeWebSocket, clientId: 'bench-failover', acks: 'all', idempotent: true,
    // Enough retries that a slow failover delays sends instead of failing them; backoffs are the defaults.
    retries: 1_000,
  });
  await producer.connect();
  const steady = new SteadyProducer(producer, topic, target.partition, settings.ratePerSecond, `r${round}`, settings.valueBytes);
  try {
    steady.start();
    await waitForAcks(steady, settings.warmupMs);
    progress(`SIGKILL broker ${killedBrokerId}, leader of ${topic}/${target.partition} (controller ${controllerId ?? 'none'})`);
    const killedWallMs = Date.now();
    const killedMs = performance.now();
    await cluster.kill(killedBrokerId);
    // Acknowledgements the old leader wrote before it died may still sit in the socket: let them
    // be read. From here on, any acknowledgement comes from the new leader.
    await nextTurn();
    await nextTurn();
    const firstAckMs = await nextAck(steady, FAILOVER_WAIT_MS_MAX);
    const failoverMs = firstAckMs - killedMs;
    progress(`first acknowledgement from the new leader after ${formatMs(failoverMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, settings.afterMs));
    try {
      await steady.stop(SETTLE_WAIT_MS_MAX);
    } catch (error) {
      throw new Error(`SEND FAILED during the failover of ${topic}/${target.partition} (broker ${killedBrokerId} killed), no figure reported: ${String(error)}`, { cause: error });
    }
    const logs = await failoverLogLines(cluster, topic, target.partition, killedBrokerId, target.leaderEpoch);
    const leaseGoneWallMs = await Promise.race([registration.gone, new Promise<null>((resolve) => { setTimeout(() => resolve(null), LOG_WAIT_MS_MAX).unref(); })]);
    progress(`restarting broker ${killedBrokerId}; waiting for it to rejoin the ISR`);
    const restartBegunMs = performance.now();
    await cluster.startBroker(killedBrokerId);
    const startedMs = performance.now();
    await waitForIsr(admin, topic, REPLICATION_FACTOR, ISR_WAIT_MS_MAX);
    const rejoinIsrMs = performance.now() - startedMs;
    const check = await readBack(cluster, admin, steady, topic, target.partition);
    if (check.problemCount > 0) {
      throw new Error(`DATA CHECK FAILED in ${topic}/${target.partition} after killing broker ${killedBrokerId}: ${check.problemCount} problems, no figure reported:\n  ${check.problems.join('\n  ')}`);
    }
    progress(`${steady.acknowledged.size} acknowledged records read back exactly once`);
    const sinceKill = (wallMs: number | null | undefined): number | null => (wallMs == null ? null : wallMs - killedWallMs);
    return {
      round, topic, partition: target.partition, killedBrokerId, controllerId, newLeaderId: logs.newLeaderId, failoverMs,
      breakdownMs: { leaseExpired: sinceKill(leaseGoneWallMs), electionWritten: sinceKill(logs.electionWallMs), newLeaderServing: sinceKill(logs.servingWallMs) },
      restartMs: startedMs - restartBegunMs, rejoinIsrMs, recordsSent: steady.sent.size, check,
    };
  } finally {
    steady.halt();
    await registration.cancel().catch(() => undefined);
    await producer.close();
  }
}

// Waits (bounded) for the producer's first acknowledgements before the kill.
async function waitForAcks(steady: SteadyProducer, warmupMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const deadlineMs = performance.now() + FAILOVER_WAIT_MS_MAX;
  while (steady.acknowledged.size === 0 && performance.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 50));
  if (steady.acknowledged.size === 0) throw new Error('the producer got no acknowledgement before the kill');
}

// The time (performance.now()) of the next acknowledgement, waiting at most `timeoutMs`.
async function nextAck(steady: SteadyProducer, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      steady.onAck(resolve);
      timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeoutMs} ms of the kill: the partition did not fail over`)), timeoutMs);
    });
  } finally {
    steady.onAck(null);
    clearTimeout(timer);
  }
}

// The controller's election line and the new leader's "leading" line, from the brokers' logs.
async function failoverLogLines(
  cluster: BenchCluster, topic: string, partition: number, killedBrokerId: number, oldLeaderEpoch: number,
): Promise<{ electionWallMs: number | null; servingWallMs: number | null; newLeaderId: number | null }> {
  const find = (matches: (line: BrokerLogLine) => boolean): BrokerLogLine | null => {
    for (const broker of cluster.runningBrokers()) {
      const line = broker.logLines.find(matches);
      if (line !== undefined) return line;
    }
    return null;
  };
  const isElection = (line: BrokerLogLine): boolean => line.msg === 'partition leader changed' && line['topic'] === topic && line['partition'] === partition && line['oldLeaderId'] === killedBrokerId;
  const isServing = (line: BrokerLogLine): boolean => line.msg === 'leading' && line['topic'] === topic && line['partition'] === partition && (line['leaderEpoch'] as number) > oldLeaderEpoch;
  const deadlineMs = Date.now() + LOG_WAIT_MS_MAX;
  while ((find(isElection) === null || find(isServing) === null) && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 20));
  const election = find(isElection);
  const serving = find(isServing);
  return {
    electionWallMs: election?.time ?? null,
    servingWallMs: serving?.time ?? null,
    newLeaderId: typeof serving?.['brokerId'] === 'number' ? serving['brokerId'] : null,
  };
}

// Reads the partition from the start to its high watermark and checks it against the ledger.
async function readBack(cluster: BenchCluster, admin: Admin, steady: SteadyProducer, topic: string, partition: number): Promise<RecordCheck> {
  const [latest] = await admin.listOffsets([{ topic, partition, spec: 'latest' }]);
  const endOffset = latest?.offset ?? 0;
  const consumer = new Consumer({ brokers: cluster.urls(), webSocketFactory: nodeWebSocket, clientId: 'bench-verify', from: 'earliest' });
  const read: ReadRecord[] = [];
  const decoder = new TextDecoder();
  try {
    await consumer.assign([{ topic, partition }]);
    if (endOffset > 0) {
      for await (const record of consumer.records({ signal: AbortSignal.timeout(SETTLE_WAIT_MS_MAX) })) {
        read.push({ offset: record.offset, value: record.value === null ? '' : decoder.decode(record.value) });
        if (record.offset >= endOffset - 1) break;
      }
    }
  } finally {
    await consumer.close();
  }
  const lastOffset = read.at(-1)?.offset ?? -1;
  if (lastOffset < endOffset - 1) throw new Error(`read ${topic}/${partition} only to offset ${lastOffset} of ${endOffset - 1} within ${SETTLE_WAIT_MS_MAX} ms`);
  return checkExactlyOnce(steady.sent, steady.acknowledged, read);
}

/** Min, median (mean of the middle two for an even count) and max; all NaN for no values. */
export function minMedianMax(values: readonly number[]): MinMedianMax {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0] ?? NaN, median, max: sorted.at(-1) ?? NaN };
}

function breakdownMedians(rounds: readonly FailoverRound[]): FailoverFigures['breakdownMedianMs'] {
  const median = (pick: (breakdown: FailoverBreakdownMs) => number | null): number | null => {
    const values = rounds.map((round) => pick(round.breakdownMs)).filter((value): value is number => value !== null);
    return values.length === 0 ? null : minMedianMax(values).median;
  };
  return { leaseExpired: median((b) => b.leaseExpired), electionWritten: median((b) => b.electionWritten), newLeaderServing: median((b) => b.newLeaderServing) };
}
