import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, SluiceClientError, type ConsumerRecord } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { SluiceError } from '../../src/errors/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

/**
 * The client when the broker goes away: sends must settle (acknowledged, or failed with a typed
 * error), never hang; an idempotent producer rides out a broker restart without duplicates; a
 * consumer resubscribes where it was. Brokers are real processes, killed by PID.
 */

const SETTLE_DEADLINE_MS = 45_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const text = (bytes: Uint8Array | null): string => new TextDecoder().decode(bytes ?? new Uint8Array(0));

const running: CliProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const broker of running.splice(0)) {
    if (broker.child.exitCode === null && broker.child.signalCode === null) await broker.stop('SIGKILL');
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startBroker(dir: string, port = 0): Promise<{ broker: CliProcess; port: number }> {
  const broker = CliProcess.start(['broker', '--port', String(port), '--data-dir', dir]);
  running.push(broker);
  return { broker, port: (await broker.waitForLog('broker started')).port as number };
}

async function tempDir(prefix: string): Promise<string> {
  const { dir, cleanup } = await makeTempDir(prefix);
  cleanups.push(cleanup);
  return dir;
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Waits for every promise to settle, but fails the test (not hangs) past the deadline, with
 * `describe()` (what the caller knows of the state then) in the error.
 */
async function settledWithin<T>(promises: Array<Promise<T>>, deadlineMs: number, describe: () => string = () => ''): Promise<Array<PromiseSettledResult<T>>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`sends still pending after ${deadlineMs} ms\n${describe()}`)), deadlineMs);
  });
  try {
    return await Promise.race([Promise.allSettled(promises), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// Seen once (a full suite under load, not reproduced alone): the bootstrap case below left sends
// pending. On a timeout the error carries the producer's queues and its last log lines.
function producerState(producer: Producer): string {
  const internals = producer as unknown as {
    queues: Map<string, { ready: Array<{ order: number; attempts: number; notBeforeMs: number }>; inFlight: Set<{ order: number; attempts: number }> }>;
    admission: { length: number }; drainBlocked: boolean; identity: { pending: boolean }; connectingTo: Set<number>; refreshingRoutes: boolean;
  };
  const now = Date.now();
  const queues = [...internals.queues].map(([key, queue]) => `${key.replace('\u0000', '/')}: ready [${queue.ready.map((batch) => `#${batch.order} a${batch.attempts} in ${batch.notBeforeMs - now} ms`).join(', ')}] in flight [${[...queue.inFlight].map((batch) => `#${batch.order} a${batch.attempts}`).join(', ')}]`);
  return [...queues, `admission ${internals.admission.length}, drainBlocked ${internals.drainBlocked}, identity pending ${internals.identity.pending}, connectingTo [${[...internals.connectingTo].join(',')}], refreshingRoutes ${internals.refreshingRoutes}`].join('\n');
}

function describeFields(fields: object): string {
  return JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value instanceof Error ? value.message : value));
}

describe('the client when the broker goes away', () => {
  it('fails pending sends with a typed error, in bounded time, when the broker is killed mid-stream', async () => {
    const dir = await tempDir('sluice-client-kill-');
    const { broker, port } = await startBroker(dir);
    const url = `ws://127.0.0.1:${port}`;
    const admin = new Admin({ url, webSocketFactory: nodeWebSocket });
    await admin.createTopic('doomed', 2);
    admin.close();
    const producer = new Producer({
      url, webSocketFactory: nodeWebSocket, lingerMs: 2, batchBytes: 8 * 1024,
      retries: 3, retryBackoffMs: 50, retryBackoffMsMax: 200, connectTimeoutMs: 1_000, requestTimeoutMs: 2_000,
    });
    const sends: Array<Promise<unknown>> = [];
    let acknowledged = 0;
    for (let index = 0; index < 20_000; index++) {
      sends.push(producer.send({ topic: 'doomed', value: `record ${index}` }).then(() => { acknowledged += 1; }));
      if (index % 500 === 499) await sleep(5);
      if (index === 10_000) {
        for (let wait = 0; wait < 200 && acknowledged === 0; wait++) await sleep(10);
        await broker.stop('SIGKILL');
      }
    }
    const outcomes = await settledWithin(sends, SETTLE_DEADLINE_MS);
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
    expect(acknowledged).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThan(0);
    const untyped = failures.filter((error) => !(error instanceof SluiceClientError) && !(error instanceof SluiceError));
    expect(untyped).toEqual([]);
    expect(new Set(failures.map((error) => (error as SluiceClientError).reason))).toEqual(new Set(['connect-failed']));
    await producer.close(1_000);
    await expect(producer.send({ topic: 'doomed', value: 'late' })).rejects.toMatchObject({ reason: 'client-closed' });
  });

  it('an idempotent producer retries across a broker restart (SIGKILL) and every acknowledged record is present exactly once; a consumer resumes where it was', async () => {
    const dir = await tempDir('sluice-client-resume-');
    const first = await startBroker(dir);
    const url = `ws://127.0.0.1:${first.port}`;
    const admin = new Admin({ url, webSocketFactory: nodeWebSocket });
    await admin.createTopic('resilient', 3);
    admin.close();

    const logged: string[] = [];
    const note = (_fields: object, message: string): void => { logged.push(message); };
    const logger = { debug: note, info: note, warn: note, error: note };
    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket, logger, from: 'earliest', reconnectAttemptsMax: 60, retryBackoffMs: 50, retryBackoffMsMax: 250 });
    await consumer.subscribe(['resilient']);
    const consumed: ConsumerRecord[] = [];
    const RECORDS = 20_000;
    const reading = (async () => {
      for await (const record of consumer.records({ signal: AbortSignal.timeout(SETTLE_DEADLINE_MS) })) {
        consumed.push(record);
        if (consumed.length >= RECORDS) break;
      }
    })();

    const producer = new Producer({
      url, webSocketFactory: nodeWebSocket, logger, acks: 1, lingerMs: 2, batchBytes: 16 * 1024,
      retries: 200, retryBackoffMs: 50, retryBackoffMsMax: 250, connectTimeoutMs: 1_000, requestTimeoutMs: 5_000,
    });
    const sends: Array<Promise<unknown>> = [];
    let acknowledged = 0;
    for (let index = 0; index < RECORDS; index++) {
      sends.push(producer.send({ topic: 'resilient', value: `id-${index}` }).then(() => { acknowledged += 1; }));
      if (index % 250 === 249) await sleep(3);
      if (index === RECORDS / 2) {
        for (let wait = 0; wait < 200 && acknowledged === 0; wait++) await sleep(10);
        await first.broker.stop('SIGKILL');
        await sleep(300);
        await startBroker(dir, first.port);
      }
    }
    const outcomes = await settledWithin(sends, SETTLE_DEADLINE_MS);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(producer.idempotenceActive).toBe(true);
    await producer.close();
    await reading;
    await consumer.close();

    // Both really lost their connection and came back.
    expect(logged).toContain('producer connection closed');
    expect(logged).toContain('consumer connection lost: reconnecting');
    // Whether a batch was in flight at the instant of the SIGKILL (and so is retried rather than
    // sent after the reconnect) depends on timing; exactly-once below must hold either way.

    const counts = new Map<string, number>();
    for (const record of consumed) counts.set(text(record.value), (counts.get(text(record.value)) ?? 0) + 1);
    const missing = Array.from({ length: RECORDS }, (_, index) => `id-${index}`).filter((id) => counts.get(id) !== 1);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(consumed).toHaveLength(RECORDS);
    const nextOffset = [0, 0, 0];
    const gaps = consumed.filter((record) => {
      const expected = nextOffset[record.partition]!;
      nextOffset[record.partition] = record.offset + 1;
      return record.offset !== expected;
    });
    expect(gaps).toEqual([]);
  }, 90_000);

  it('given two bootstrap URLs of which the first is dead, an idempotent producer finds the broker, rides out its SIGKILL and restart by refreshing metadata through the bootstrap list, and every record is present exactly once', async () => {
    const dir = await tempDir('sluice-client-bootstrap-');
    const first = await startBroker(dir);
    const brokers = [`ws://127.0.0.1:${await deadPort()}`, `ws://127.0.0.1:${first.port}`];
    const admin = new Admin({ brokers, webSocketFactory: nodeWebSocket });
    await admin.createTopic('bootstrapped', 2);
    admin.close();

    const logged: string[] = [];
    const details: string[] = [];
    const note = (fields: object, message: string): void => { logged.push(message); details.push(`${Date.now()} ${message} ${describeFields(fields)}`); };
    const logger = { debug: note, info: note, warn: note, error: note };
    const producer = new Producer({
      brokers, webSocketFactory: nodeWebSocket, logger, acks: 'all', lingerMs: 2, batchBytes: 8 * 1024,
      retries: 200, retryBackoffMs: 50, retryBackoffMsMax: 250, connectTimeoutMs: 1_000, requestTimeoutMs: 5_000,
    });
    const RECORDS = 6_000;
    const sends: Array<Promise<unknown>> = [];
    let acknowledged = 0;
    for (let index = 0; index < RECORDS; index++) {
      sends.push(producer.send({ topic: 'bootstrapped', value: `b-${index}` }).then(() => { acknowledged += 1; }));
      if (index % 200 === 199) await sleep(3);
      if (index === RECORDS / 2) {
        for (let wait = 0; wait < 200 && acknowledged === 0; wait++) await sleep(10);
        await first.broker.stop('SIGKILL');
        await sleep(300);
        await startBroker(dir, first.port);
      }
    }
    const outcomes = await settledWithin(sends, SETTLE_DEADLINE_MS, () => `acknowledged ${acknowledged}\n${producerState(producer)}\n${details.slice(-30).join('\n')}`);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(producer.idempotenceActive).toBe(true);
    await producer.close();
    expect(logged).toContain('producer connection closed');
    expect(logged).toContain('broker not reachable; trying the next');
    // Metadata was fetched again after the restart (the first fetch found the partitions).
    expect(logged.filter((message) => message === 'metadata refreshed').length).toBeGreaterThan(1);

    const consumer = new Consumer({ brokers, webSocketFactory: nodeWebSocket, from: 'earliest' });
    await consumer.subscribe(['bootstrapped']);
    const counts = new Map<string, number>();
    let consumed = 0;
    for await (const record of consumer.records({ signal: AbortSignal.timeout(SETTLE_DEADLINE_MS) })) {
      counts.set(text(record.value), (counts.get(text(record.value)) ?? 0) + 1);
      if (++consumed >= RECORDS) break;
    }
    await consumer.close();
    expect(consumed).toBe(RECORDS);
    const wrong = Array.from({ length: RECORDS }, (_, index) => `b-${index}`).filter((id) => counts.get(id) !== 1);
    expect(wrong.slice(0, 10)).toEqual([]);
    const checker = new Admin({ brokers, webSocketFactory: nodeWebSocket });
    const [latest0, latest1] = await checker.listOffsets([
      { topic: 'bootstrapped', partition: 0, spec: 'latest' }, { topic: 'bootstrapped', partition: 1, spec: 'latest' },
    ]);
    checker.close();
    expect(latest0!.offset! + latest1!.offset!).toBe(RECORDS); // nothing written twice, even unread
  }, 90_000);
});
