import { splitEvenly } from '../../common/windowed-sends.js';
import { Offset, type Client, type Publisher } from 'rabbitmq-stream-js-client';
import { LatencyRecorder, type LatencySummaryMs } from '../../common/latency.js';
import type { ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams, ThroughputFigures } from '../system.js';

/**
 * The comparison's workloads on RabbitMQ streams through rabbitmq-stream-js-client: publishers
 * with publish confirms (the client batches sends into Publish frames of up to 100 messages),
 * and consumers subscribed from the first offset. Every publisher gets a client (and so a TCP
 * connection) of its own: the client reports confirms per connection, not per publisher.
 */

/** Opens a new client to the node under test. */
export type StreamConnect = () => Promise<Client>;

/** Longest wait for the next confirm or delivery before a run is declared stuck. */
const STALL_TIMEOUT_MS = 30_000;
const WORKLOAD_TIMEOUT_MS = 600_000;
const END_TO_END_DRAIN_MS = 30_000;

/** (a) Publish `records` messages with at most `inFlight` unconfirmed. */
export async function produceThroughput(connect: StreamConnect, params: ProduceThroughputParams): Promise<ThroughputFigures> {
  const client = await connect();
  try {
    const started = performance.now();
    await publishWindowed(client, params.stream, params.records, params.inFlight, Buffer.alloc(params.valueBytes, 'v'));
    return { records: params.records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.close();
  }
}

/** (b) One message at a time, each confirm awaited before the next send. */
export async function produceSequential(connect: StreamConnect, params: SequentialProduceParams): Promise<LatencySummaryMs> {
  const client = await connect();
  try {
    const publisher = await client.declarePublisher({ stream: params.stream });
    const confirms = new ConfirmWindow(publisher);
    const value = Buffer.alloc(params.valueBytes, 'v');
    const recorder = new LatencyRecorder();
    for (let i = 0; i < params.records; i++) {
      const sentMs = performance.now();
      confirms.sent(1);
      await publisher.send(value);
      await publisher.flush();
      await confirms.waitBelow(1);
      recorder.recordMs(performance.now() - sentMs);
    }
    return recorder.summary();
  } finally {
    await client.close();
  }
}

/** (c) Subscribe from the first offset and count deliveries up to `records`. */
export async function consumeAll(connect: StreamConnect, params: ConsumeParams): Promise<ThroughputFigures> {
  const client = await connect();
  try {
    const deliveries = new DeliveryCounter(params.records);
    const started = performance.now();
    const consumer = await client.declareConsumer({ stream: params.stream, offset: Offset.first() }, () => deliveries.delivered());
    await deliveries.waitForAll(started + WORKLOAD_TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    if (deliveries.count !== params.records) throw new Error(`RabbitMQ consume read ${deliveries.count} of ${params.records} messages`);
    return { records: deliveries.count, seconds };
  } finally {
    await client.close();
  }
}

/**
 * (d) Publish on a fixed schedule while a consumer (own client) reads from the first offset; each
 * message carries its intended send time, so a stall counts against every message it delayed.
 */
export async function endToEnd(connect: StreamConnect, params: EndToEndParams): Promise<LatencySummaryMs> {
  const [producerClient, consumerClient] = [await connect(), await connect()];
  try {
    const total = Math.round(params.ratePerSecond * params.seconds);
    const recorder = new LatencyRecorder();
    const deliveries = new DeliveryCounter(total);
    const consumer = await consumerClient.declareConsumer({ stream: params.stream, offset: Offset.first() }, (message) => {
      recorder.recordMs(performance.now() - Number(message.content.toString('latin1')));
      deliveries.delivered();
    });
    const publisher = await producerClient.declarePublisher({ stream: params.stream });
    const confirms = new ConfirmWindow(publisher);
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const intendedMs = started + (i * 1000) / params.ratePerSecond;
      const waitMs = intendedMs - performance.now();
      if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
      confirms.sent(1);
      await publisher.send(Buffer.from(intendedMs.toFixed(3).padEnd(params.valueBytes, ' '), 'latin1'));
    }
    await publisher.flush();
    await confirms.waitBelow(1);
    await deliveries.waitForAll(started + params.seconds * 1000 + END_TO_END_DRAIN_MS);
    await consumer.close();
    if (deliveries.count !== total) throw new Error(`RabbitMQ end-to-end received ${deliveries.count} of ${total} messages`);
    return recorder.summary();
  } finally {
    await producerClient.close();
    await consumerClient.close();
  }
}

/** (e) One client and publisher per stream, all publishing their share at once. */
export async function produceParallel(connect: StreamConnect, params: ParallelProduceParams, streams: readonly string[]): Promise<ThroughputFigures> {
  const clients = await Promise.all(streams.map(() => connect()));
  try {
    const value = Buffer.alloc(params.valueBytes, 'v');
    const shares = splitEvenly(params.records, streams.length);
    const started = performance.now();
    await Promise.all(streams.map((stream, i) => publishWindowed(clients[i]!, stream, shares[i]!, params.inFlight, value)));
    return { records: params.records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}


async function publishWindowed(client: Client, stream: string, records: number, inFlight: number, value: Buffer): Promise<void> {
  const publisher = await client.declarePublisher({ stream });
  const confirms = new ConfirmWindow(publisher);
  for (let i = 0; i < records; i++) {
    confirms.sent(1);
    await publisher.send(value);
    if (confirms.outstanding >= inFlight) {
      await publisher.flush();
      await confirms.waitBelow(inFlight);
    }
  }
  await publisher.flush();
  await confirms.waitBelow(1);
}

/**
 * Messages published and not yet confirmed, for one publisher on its own connection. A publish
 * error (a negative confirm) fails the run; so does a wait with no confirm for STALL_TIMEOUT_MS.
 */
class ConfirmWindow {
  outstanding = 0;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(publisher: Publisher) {
    publisher.on('publish_confirm', (errorCode, publishingIds) => {
      if (errorCode !== null) this.error ??= new Error(`RabbitMQ publish error code ${errorCode} for publishing id ${publishingIds[0]}`);
      this.outstanding -= publishingIds.length;
      this.wake?.();
      this.wake = null;
    });
  }

  sent(count: number): void {
    this.outstanding += count;
  }

  /** Resolves once fewer than `limit` messages are unconfirmed. */
  async waitBelow(limit: number): Promise<void> {
    while (this.outstanding >= limit && this.error === null) {
      const confirmed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), STALL_TIMEOUT_MS);
        this.wake = () => { clearTimeout(timer); resolve(true); };
      });
      if (!confirmed) throw new Error(`RabbitMQ: no publish confirm for ${STALL_TIMEOUT_MS} ms with ${this.outstanding} unconfirmed`);
    }
    if (this.error !== null) throw this.error;
  }
}

/** Deliveries counted towards an expected total. */
class DeliveryCounter {
  count = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly expected: number) {}

  delivered(): void {
    this.count += 1;
    if (this.count >= this.expected) {
      this.wake?.();
      this.wake = null;
    }
  }

  /** Resolves once `expected` deliveries arrived, or at `deadlineMs` (performance.now() time). */
  async waitForAll(deadlineMs: number): Promise<void> {
    if (this.count >= this.expected) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadlineMs - performance.now()));
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }
}
