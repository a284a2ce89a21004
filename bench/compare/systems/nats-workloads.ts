import { sendWindowed } from '../../common/windowed-sends.js';
import type { JetStreamClient, JsMsg, NatsConnection } from 'nats';
import { LatencyRecorder, type LatencySummaryMs } from '../../common/latency.js';
import type { ThroughputFigures } from '../system.js';

/**
 * The client side of the workloads against JetStream, written once for both clients (`nats`
 * over TCP, `nats.ws` over WebSocket): each takes connections from a connector and measures.
 * A JetStream "partition" is a stream; the subject of each stream is its own name.
 */

/** Opens one client connection to the system under test. */
export type NatsConnector = () => Promise<NatsConnection>;

/**
 * PubAck timeout of the produce workloads (the client's default is 5 s). With 8 producers of
 * 1,000 in flight on 2 shared cores, acks queue unevenly: in a 1,000,000-record run single acks
 * took up to 5.2 s over WebSocket (1.9 s over TCP), and the default failed the run for queueing,
 * not loss. The stored count is checked after each run.
 */
const PUBLISH_ACK_TIMEOUT_MS = 60_000;
/** Records the ordered consumer asks the server for per pull request (it re-pulls at 75%). */
const CONSUME_BATCH_MESSAGES = 10_000;
const CONSUME_TIMEOUT_MS = 600_000;
/**
 * How long the end-to-end consumer may take, after the last PubAck, to receive the rest. Long:
 * at rates past what the client keeps up with (about 10,000/s on 2 shared cores), the backlog
 * is the result to report, not a reason to fail.
 */
const END_TO_END_DRAIN_MS = 300_000;
/** PubAck timeout of the end-to-end producer: its publishes queue behind each other when it falls behind. */
const END_TO_END_ACK_TIMEOUT_MS = 300_000;
/** The end-to-end payload starts with the record's index (uint32) and intended send time (float64). */
const END_TO_END_HEADER_BYTES = 12;

/** (a) and each producer of (e): publishes `records` records keeping at most `inFlight` PubAcks outstanding. */
export async function publishWithInFlight(js: JetStreamClient, subject: string, records: number, inFlight: number, payload: Uint8Array): Promise<void> {
  await sendWindowed(records, inFlight, () => js.publish(subject, payload));
}

/** (a) one connection, one stream. */
export async function produceThroughput(connector: NatsConnector, stream: string, records: number, inFlight: number, valueBytes: number): Promise<ThroughputFigures> {
  const nc = await connector();
  try {
    const js = nc.jetstream({ timeout: PUBLISH_ACK_TIMEOUT_MS });
    const started = performance.now();
    await publishWithInFlight(js, stream, records, inFlight, filledValue(valueBytes));
    return { records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await nc.close();
  }
}

/** (e) one connection per stream, all publishing at once; the clock starts when all are connected. */
export async function produceParallel(connector: NatsConnector, streams: readonly string[], records: number, inFlight: number, valueBytes: number): Promise<ThroughputFigures> {
  const connections = await connectAll(connector, streams.length);
  try {
    const payload = filledValue(valueBytes);
    const started = performance.now();
    await Promise.all(streams.map((stream, index) => {
      const share = Math.floor(records / streams.length) + (index < records % streams.length ? 1 : 0);
      return publishWithInFlight(connections[index]!.jetstream({ timeout: PUBLISH_ACK_TIMEOUT_MS }), stream, share, inFlight, payload);
    }));
    return { records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all(connections.map((nc) => nc.close()));
  }
}

/** (b) each publish awaited before the next; latency of each publish → PubAck. */
export async function produceSequential(connector: NatsConnector, stream: string, records: number, valueBytes: number): Promise<LatencySummaryMs> {
  const nc = await connector();
  try {
    const js = nc.jetstream({ timeout: PUBLISH_ACK_TIMEOUT_MS });
    const payload = filledValue(valueBytes);
    const recorder = new LatencyRecorder();
    for (let i = 0; i < records; i++) {
      const sentMs = performance.now();
      await js.publish(stream, payload);
      recorder.recordMs(performance.now() - sentMs);
    }
    return recorder.summary();
  } finally {
    await nc.close();
  }
}

/**
 * (c) an ordered consumer (ephemeral, no acks, flow-controlled pull requests of
 * CONSUME_BATCH_MESSAGES) reading from the first record, with a callback rather than the async
 * iterator: the fastest way the client offers. Checks every stream sequence arrives once, in order.
 */
export async function consumeAll(connector: NatsConnector, stream: string, records: number): Promise<ThroughputFigures> {
  const nc = await connector();
  try {
    const consumer = await nc.jetstream().consumers.get(stream);
    let received = 0;
    let outOfOrder: string | null = null;
    let allReceived: () => void = () => {};
    const done = new Promise<void>((resolve) => { allReceived = resolve; });
    const started = performance.now();
    const messages = await consumer.consume({
      max_messages: CONSUME_BATCH_MESSAGES,
      callback: (message: JsMsg) => {
        received += 1;
        if (message.seq !== received) outOfOrder ??= `stream sequence ${message.seq} arrived as record ${received}`;
        if (received === records) allReceived();
      },
    });
    let seconds: number;
    try {
      await withDeadline(done, CONSUME_TIMEOUT_MS, () => `consumed ${received} of ${records} records`);
      seconds = (performance.now() - started) / 1000;
    } finally {
      await messages.close();
    }
    if (outOfOrder !== null) throw new Error(`consumeAll on ${stream}: ${outOfOrder}`);
    return { records: received, seconds };
  } finally {
    await nc.close();
  }
}

/**
 * (d) publishes on a fixed schedule while an ordered consumer reads, and measures from each
 * record's intended send time to its receipt, so a stall shows in every record it delayed (no
 * coordinated omission). The producer and consumer have their own connections. Every record
 * must arrive exactly once.
 */
export async function endToEnd(connector: NatsConnector, stream: string, ratePerSecond: number, seconds: number, valueBytes: number): Promise<LatencySummaryMs> {
  const total = Math.round(ratePerSecond * seconds);
  const connections = await connectAll(connector, 2);
  const consumerConnection = connections[0]!;
  const producerConnection = connections[1]!;
  try {
    const recorder = new LatencyRecorder();
    const seen = new Uint8Array(total);
    let received = 0;
    let duplicate: number | null = null;
    let allReceived: () => void = () => {};
    const done = new Promise<void>((resolve) => { allReceived = resolve; });
    // The stream is fresh, so the consumer's default (deliver all) starts at this run's first record.
    const consumer = await consumerConnection.jetstream().consumers.get(stream);
    const messages = await consumer.consume({
      max_messages: CONSUME_BATCH_MESSAGES,
      callback: (message: JsMsg) => {
        const receivedMs = performance.now();
        const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        const index = view.getUint32(0);
        recorder.recordMs(receivedMs - view.getFloat64(4));
        if (seen[index] === 1) duplicate ??= index;
        seen[index] = 1;
        received += 1;
        if (received === total) allReceived();
      },
    });
    try {
      await publishOnSchedule(producerConnection.jetstream({ timeout: END_TO_END_ACK_TIMEOUT_MS }), stream, total, ratePerSecond, valueBytes);
      await withDeadline(done, END_TO_END_DRAIN_MS, () => `end-to-end received ${received} of ${total} records`);
    } finally {
      await messages.close();
    }
    if (duplicate !== null) throw new Error(`end-to-end on ${stream}: record ${duplicate} received twice`);
    return recorder.summary();
  } finally {
    await Promise.all(connections.map((nc) => nc.close()));
  }
}

// Sends record i at started + i/rate (catching up without waiting when behind) and waits for every PubAck.
async function publishOnSchedule(js: JetStreamClient, subject: string, total: number, ratePerSecond: number, valueBytes: number): Promise<void> {
  const acks: Promise<unknown>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const intendedMs = started + (i * 1000) / ratePerSecond;
    const waitMs = intendedMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const payload = new Uint8Array(Math.max(valueBytes, END_TO_END_HEADER_BYTES));
    const view = new DataView(payload.buffer);
    view.setUint32(0, i);
    view.setFloat64(4, intendedMs);
    acks.push(js.publish(subject, payload));
  }
  await Promise.all(acks);
}

// Opens `count` connections, closing the ones that opened when any fails.
async function connectAll(connector: NatsConnector, count: number): Promise<NatsConnection[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => connector()));
  const connections = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure === undefined) return connections;
  await Promise.all(connections.map((nc) => nc.close()));
  throw failure.reason;
}

function filledValue(valueBytes: number): Uint8Array {
  return new Uint8Array(valueBytes).fill(0x76);
}

async function withDeadline(promise: Promise<void>, timeoutMs: number, describe: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${describe()} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
