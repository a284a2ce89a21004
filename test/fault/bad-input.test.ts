import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import {
  API_VERSION, ApiKey, PROTOCOL_VERSION, RESPONSE_DECODERS, REQUEST_ENCODERS, decodeFrameHeader, decodeSubscribeResponse, decodeSubscribePush, isApiKey,
  readResponseHeader, ByteReader, type FrameHeader,
} from '../../src/protocol/index.js';
import { LOG_OVERHEAD_BYTES, decodeBatchHeader, decodeRecords, encodeRecordBatch, lastOffsetOf } from '../../src/record/index.js';
import { healthzStatus, isAlive } from '../helpers/broker-observer.js';
import { FrameFuzzer, TAG_PREFIX, type FuzzMessage, type FuzzTarget } from '../helpers/frame-fuzzer.js';
import { FuzzConnection, type Outcome } from '../helpers/fuzz-connection.js';
import { CliProcess, runCli } from '../helpers/process.js';
import { ProduceLedger, produceTargets } from '../helpers/produce-ledger.js';
import { mulberry32 } from '../helpers/random.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

/**
 * Issue 5, "Bad input": a real broker process is sent at least 10,000 random and mutated frames
 * over several connections. Every frame must end in a response whose error codes are all in
 * docs/errors.md (0 where the mutation left it valid) or in a close with a code of
 * docs/protocol.md, within a bound; the broker must stay up and healthy throughout; and
 * afterwards its log must verify and hold exactly the records of acknowledged produces (plus,
 * possibly, those of acks-0 or timed-out ones). Replay a failure with SLUICE_FUZZ_SEED.
 */

const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 0x5eed_0005);
const TOPIC = 'fuzzed';
const PARTITION_COUNT = 2;
const MAX_FRAME_BYTES = 256 * 1024;
const BATCH_BYTES_MAX = 64 * 1024;
const TARGET: FuzzTarget = { topic: TOPIC, partitionCount: PARTITION_COUNT, maxFrameBytes: MAX_FRAME_BYTES, batchBytesMax: BATCH_BYTES_MAX };

const WORKERS = 4;
const ROUNDS = 5;
const FRAMES_PER_ROUND_PER_WORKER = 1_000;
const FRAMES_MIN = 10_000;
/** The fuzzing stops sending at this bound even if fewer frames went out (and then fails). */
const FUZZ_TIME_BUDGET_MS = 38_000;
const FRAME_WAIT_MS = 5_000;
const PROBE_EVERY_FRAMES = 20;
const PRE_HANDSHAKE_EVERY_FRAMES = 250;
const VIOLATIONS_MAX = 50;
const PROBE_CORRELATION_ID_MIN = 0x8000_0000;

const ALLOWED_CLOSE_CODES = new Set([1002, 1003, 1008, 1009, 4001]);
const DOCUMENTED_ERROR_CODES = new Set([0, ...Object.values(ERROR_CODES).map((entry) => entry.code)]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let broker: CliProcess;
let port: number;
let dataDir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-bad-input-'));
  broker = CliProcess.start([
    'broker', '--port', '0', '--data-dir', dataDir, '--max-frame-bytes', String(MAX_FRAME_BYTES), '--batch-bytes-max', String(BATCH_BYTES_MAX),
    '--credit-bytes-max', String(128 * 1024), '--fetch-wait-ms-max', '300', '--partition-count-max', '4', '--offsets-topic-partition-count', '2', '--max-subscriptions-per-connection', '4',
  ]);
  port = (await broker.waitForLog('broker started')).port as number;
  const admin = await WireClient.ready(port);
  const created = await admin.request(ApiKey.CreateTopics, { topics: [{ name: TOPIC, partitionCount: PARTITION_COUNT, replicationFactor: 1 }] });
  if (created.headerOnly || created.results[0]!.errorCode !== 0) throw new Error(`could not create ${TOPIC}: ${JSON.stringify(created)}`);
  admin.close();
});

afterAll(async () => {
  if (isAlive(broker.pid)) expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** What the fuzzing saw, for the assertions and the printed figures. */
class FuzzStats {
  framesSent = 0;
  probes = 0;
  silent = 0;
  pushes = 0;
  reconnects = 0;
  /** Client batches with the control bit set that the broker acknowledged (see the report). */
  controlBatchesAcked = 0;
  readonly closesByCode = new Map<number, number>();
  readonly responsesByCode = new Map<number, number>();
  readonly violations: string[] = [];

  count(map: Map<number, number>, key: number): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  violation(text: string): void {
    if (this.violations.length < VIOLATIONS_MAX) this.violations.push(text);
  }
}

/** One connection's stream of fuzzed frames, reconnecting whenever the broker closes it. */
class FuzzWorker {
  private nextCorrelationId = 1;
  private nextProbeId: number;
  private sent = 0;

  private constructor(
    private readonly index: number,
    private connection: FuzzConnection,
    readonly fuzzer: FrameFuzzer,
    private readonly stats: FuzzStats,
    private readonly ledger: ProduceLedger,
  ) {
    this.nextProbeId = PROBE_CORRELATION_ID_MIN + index * 0x0100_0000;
  }

  static async start(index: number, stats: FuzzStats, ledger: ProduceLedger): Promise<FuzzWorker> {
    const fuzzer = new FrameFuzzer(mulberry32(SEED + index), TARGET, `c${index}`);
    return new FuzzWorker(index, await FuzzConnection.ready(port, MAX_FRAME_BYTES), fuzzer, stats, ledger);
  }

  /** Sends up to `frames` messages, stopping early at `deadlineMs` or when violations pile up. */
  async run(frames: number, deadlineMs: number): Promise<void> {
    for (let i = 0; i < frames && Date.now() < deadlineMs && this.stats.violations.length < VIOLATIONS_MAX; i++) {
      if (this.sent % PROBE_EVERY_FRAMES === 0) await this.probe();
      if (this.sent % PRE_HANDSHAKE_EVERY_FRAMES === PRE_HANDSHAKE_EVERY_FRAMES - 1) await this.requestBeforeHandshake();
      else await this.sendOne();
      this.sent += 1;
      this.stats.framesSent += 1;
    }
  }

  close(): void {
    this.connection.close();
  }

  private async sendOne(): Promise<void> {
    const message = this.fuzzer.next(this.nextCorrelationId++);
    const payload = message.payload;
    const correlationId = typeof payload === 'string' || payload.length < 8 ? 0 : new DataView(payload.buffer, payload.byteOffset).getUint32(4);
    const targets = produceTargets(payload, TOPIC, BATCH_BYTES_MAX);
    const silent = targets !== null && targets.acks === 0;
    const outcome = await this.connection.exchange(payload, silent ? null : correlationId, silent ? this.probeFrame() : null, FRAME_WAIT_MS);
    const where = `seed ${SEED} worker ${this.index} frame ${this.sent} (${message.category}, ${hexOf(payload)})`;
    const problem = judge(message, outcome, this.stats) ?? safely(() => this.ledger.record(targets, outcome));
    if (problem !== null) this.stats.violation(`${where}: ${problem}`);
    if (outcome.kind === 'response') this.noteSubscription(outcome.frame);
    if (outcome.kind === 'response' && message.category === 'damagedBatch:control' && problem === null && outcome.frame.length > 10) {
      const response = safelyDecode(() => RESPONSE_DECODERS[ApiKey.Produce](outcome.frame.subarray(8)));
      if (response !== null && !response.headerOnly && response.topics[0]?.partitions[0]?.errorCode === 0) this.stats.controlBatchesAcked += 1;
    }
    this.drainAsides(where);
    await this.afterOutcome(payload, outcome, where);
  }

  // Handshake asking for another protocol version is answered, then closed with 4001.
  private async afterOutcome(payload: Uint8Array | string, outcome: Outcome, where: string): Promise<void> {
    if (outcome.kind === 'timeout') {
      this.stats.violation(`${where}: no response and no close within ${FRAME_WAIT_MS} ms`);
      this.connection.terminate();
    } else if (outcome.kind === 'response' && isRefusedHandshake(payload, outcome.frame)) {
      const code = await this.connection.closedWithin(FRAME_WAIT_MS);
      if (code !== 4001) this.stats.violation(`${where}: a refused protocol version closed with ${code}, not 4001`);
      if (code !== null) this.stats.count(this.stats.closesByCode, code);
    }
    if (outcome.kind === 'close') this.stats.count(this.stats.closesByCode, outcome.code);
    if (!this.connection.isOpen) await this.reconnect(where);
  }

  private async reconnect(where: string): Promise<void> {
    const code = await this.connection.closedWithin(FRAME_WAIT_MS);
    if (code === null) {
      this.stats.violation(`${where}: the connection neither stayed open nor closed`);
      this.connection.terminate();
    }
    this.connection = await FuzzConnection.ready(port, MAX_FRAME_BYTES);
    this.stats.reconnects += 1;
  }

  // A request other than Handshake on a fresh connection closes it with 1008.
  private async requestBeforeHandshake(): Promise<void> {
    const early = await FuzzConnection.open(port, MAX_FRAME_BYTES);
    const correlationId = this.nextCorrelationId++;
    const frame = this.fuzzer.frame(ApiKey.Metadata, correlationId, REQUEST_ENCODERS[ApiKey.Metadata]({ allTopics: true, topics: [] }));
    const outcome = await early.exchange(frame, correlationId, null, FRAME_WAIT_MS);
    if (outcome.kind !== 'close' || outcome.code !== 1008) this.stats.violation(`seed ${SEED} worker ${this.index}: a request before Handshake ended in ${JSON.stringify(outcome.kind === 'close' ? outcome : outcome.kind)}, not close 1008`);
    if (outcome.kind === 'close') this.stats.count(this.stats.closesByCode, outcome.code);
    early.terminate();
  }

  // A valid Metadata on the fuzzed connection: it must still answer, and the topic must be intact.
  private async probe(): Promise<void> {
    const probe = this.probeFrame();
    const outcome = await this.connection.exchange(probe.frame, probe.correlationId, null, FRAME_WAIT_MS);
    this.stats.probes += 1;
    const where = `seed ${SEED} worker ${this.index} probe before frame ${this.sent}`;
    if (outcome.kind !== 'response') {
      this.stats.violation(`${where}: ${outcome.kind === 'close' ? `closed with ${outcome.code}` : 'timed out'}`);
      if (outcome.kind === 'timeout') this.connection.terminate();
      await this.reconnect(where);
      return;
    }
    const response = RESPONSE_DECODERS[ApiKey.Metadata](outcome.frame.subarray(8));
    if (response.headerOnly || response.errorCode !== 0 || response.topics[0]?.errorCode !== 0 || response.topics[0].partitions.length !== PARTITION_COUNT) {
      this.stats.violation(`${where}: Metadata answered ${JSON.stringify(response)}`);
    }
  }

  private probeFrame(): { frame: Uint8Array; correlationId: number } {
    const correlationId = this.nextProbeId++;
    return { correlationId, frame: this.fuzzer.frame(ApiKey.Metadata, correlationId, REQUEST_ENCODERS[ApiKey.Metadata]({ allTopics: false, topics: [TOPIC] })) };
  }

  private noteSubscription(frame: Uint8Array): void {
    if (frame[1] !== ApiKey.Subscribe) return;
    const response = safelyDecode(() => decodeSubscribeResponse(frame.subarray(8)));
    if (response !== null && !response.headerOnly && response.errorCode === 0 && this.fuzzer.subscriptionIds.length < 16) {
      this.fuzzer.subscriptionIds.push(response.subscriptionId);
    }
  }

  // Pushes must decode with documented codes; responses nobody awaited and malformed frames are violations.
  private drainAsides(where: string): void {
    for (const push of this.connection.pushes.splice(0)) {
      this.stats.pushes += 1;
      const decoded = safelyDecode(() => decodeSubscribePush(push.subarray(8)));
      if (decoded === null || !DOCUMENTED_ERROR_CODES.has(decoded.errorCode)) this.stats.violation(`${where}: a push that does not decode or has an undocumented code`);
    }
    for (const stray of this.connection.strays.splice(0)) this.stats.violation(`${where}: a response nobody awaited: ${hexOf(stray)}`);
    for (const text of this.connection.malformed.splice(0)) this.stats.violation(`${where}: the broker sent ${text}`);
  }
}

/** Checks one outcome against the message's expectation and the documented codes; null when fine. */
function judge(message: FuzzMessage, outcome: Outcome, stats: FuzzStats): string | null {
  const expect = message.expect;
  switch (outcome.kind) {
    case 'timeout': return null;
    case 'silent':
      stats.silent += 1;
      return expect.kind === 'answer' || expect.kind === 'documented' ? null : `no response (acks 0), expected ${JSON.stringify(expect)}`;
    case 'close':
      if (!ALLOWED_CLOSE_CODES.has(outcome.code)) return `closed with ${outcome.code}, not a documented close code`;
      if (expect.kind === 'documented') return null;
      if (expect.kind === 'close') return expect.codes.includes(outcome.code) ? null : `closed with ${outcome.code}, expected ${expect.codes.join(' or ')}`;
      return `closed with ${outcome.code}, expected a response (${JSON.stringify(expect)})`;
    case 'response': return judgeResponse(message, outcome.frame, stats);
  }
}

function judgeResponse(message: FuzzMessage, frame: Uint8Array, stats: FuzzStats): string | null {
  const header = decodeFrameHeader(frame);
  const sent = message.payload as Uint8Array;
  if (header.apiKey !== sent[1] || header.apiVersion !== API_VERSION) return `a response with apiKey ${header.apiKey} apiVersion ${header.apiVersion} to a request of apiKey ${sent[1]}`;
  const codes = responseCodes(header, frame.subarray(8));
  if (codes === null) return `a response body that does not decode: ${hexOf(frame)}`;
  stats.count(stats.responsesByCode, codes.top);
  const undocumented = [codes.top, ...codes.nested].filter((code) => !DOCUMENTED_ERROR_CODES.has(code));
  if (undocumented.length > 0) return `undocumented error codes ${undocumented.join(', ')}`;
  const expect = message.expect;
  if (expect.kind === 'close') return `answered (code ${codes.top}) where a close ${expect.codes.join(' or ')} was due`;
  if (expect.kind === 'error' && !expect.codes.includes(codes.top)) return `answered code ${codes.top}, expected ${expect.codes.join(' or ')}`;
  if (expect.kind === 'partitionError') {
    if (codes.top !== 0 || codes.nested.length === 0) return `answered code ${codes.top} with ${codes.nested.length} partition results, expected partition codes ${expect.codes.join(' or ')}`;
    const wrong = codes.nested.filter((code) => !expect.codes.includes(code));
    if (wrong.length > 0) return `partition codes ${wrong.join(', ')}, expected ${expect.codes.join(' or ')}`;
  }
  return null;
}

/** The header code and every nested errorCode of a response body, or null if it does not decode. */
function responseCodes(header: FrameHeader, body: Uint8Array): { top: number; nested: number[] } | null {
  if (!isApiKey(header.apiKey)) {
    // An unknown apiKey can only get a header-only response.
    const reader = new ByteReader(body, 'header-only response');
    const read = safelyDecode(() => readResponseHeader(reader));
    return read === null || reader.remainingBytes !== 0 || read.errorCode === 0 ? null : { top: read.errorCode, nested: [] };
  }
  const decode = RESPONSE_DECODERS[header.apiKey] as (bytes: Uint8Array) => { errorCode: number };
  const response = safelyDecode(() => decode(body));
  if (response === null) return null;
  const nested: number[] = [];
  collectErrorCodes(response, nested, true);
  return { top: response.errorCode, nested };
}

function collectErrorCodes(value: unknown, into: number[], isTop: boolean): void {
  if (Array.isArray(value)) {
    for (const item of value) collectErrorCodes(item, into, false);
  } else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const [key, field] of Object.entries(value)) {
      if (key === 'errorCode' && typeof field === 'number') {
        if (!isTop) into.push(field);
      } else collectErrorCodes(field, into, false);
    }
  }
}

function isRefusedHandshake(payload: Uint8Array | string, response: Uint8Array): boolean {
  return typeof payload !== 'string' && payload[1] === ApiKey.Handshake && response[1] === ApiKey.Handshake
    && new DataView(payload.buffer, payload.byteOffset).getUint16(2) === API_VERSION
    && new DataView(response.buffer, response.byteOffset).getInt16(8) === ERROR_CODES.UNSUPPORTED_VERSION.code
    && safelyDecode(() => RESPONSE_DECODERS[ApiKey.Handshake](response.subarray(8))) !== null
    && payload.length >= 10 && new DataView(payload.buffer, payload.byteOffset).getUint16(8) !== PROTOCOL_VERSION;
}

function safelyDecode<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch {
    return null;
  }
}

function safely(action: () => string | null): string | null {
  try {
    return action();
  } catch (error) {
    return `could not judge: ${(error as Error).message}`;
  }
}

function hexOf(payload: Uint8Array | string): string {
  if (typeof payload === 'string') return `text ${JSON.stringify(payload.slice(0, 20))}`;
  return `${payload.length} bytes ${Buffer.from(payload.subarray(0, 24)).toString('hex')}`;
}

/** Every record value of a partition, read back through Fetch from offset 0 to the high watermark. */
async function storedValues(client: WireClient, partition: number): Promise<string[]> {
  const values: string[] = [];
  let offset = 0;
  // Each pass returns at least one batch or ends, and the log is finite: bounded by its batches.
  for (let pass = 0; pass < 100_000; pass++) {
    const fetched = await client.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 128 * 1024, partitions: [{ topic: TOPIC, partition, fetchOffset: offset, partitionMaxBytes: 128 * 1024 }] });
    if (fetched.headerOnly) throw new Error(`fetch failed: ${fetched.errorCode}`);
    const result = fetched.partitions[0]!;
    if (result.errorCode !== 0) throw new Error(`fetch of partition ${partition} at ${offset} failed: ${result.errorCode}`);
    if (offset >= result.highWatermark) return values;
    if (result.records.length === 0) throw new Error(`fetch at ${offset} below the high watermark ${result.highWatermark} returned nothing`);
    for (let at = 0; at < result.records.length;) {
      const header = decodeBatchHeader(result.records, at);
      const batch = result.records.subarray(at, at + header.batchLength + LOG_OVERHEAD_BYTES);
      for (const record of decodeRecords(batch)) if (record.offset >= offset) values.push(record.value === null ? '<null>' : decoder.decode(record.value));
      offset = lastOffsetOf(header) + 1;
      at += batch.length;
    }
  }
  throw new Error('partition read did not finish');
}

function sortedEntries(map: ReadonlyMap<number | string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => [String(key), value]));
}

describe('bad input over real connections', () => {
  it(`answers ${FRAMES_MIN.toLocaleString('en')}+ random and mutated frames with documented errors or closes, stays up, and writes only acknowledged batches`, async () => {
    const stats = new FuzzStats();
    const ledger = new ProduceLedger();
    const workers = await Promise.all(Array.from({ length: WORKERS }, (_, index) => FuzzWorker.start(index, stats, ledger)));
    const startedMs = Date.now();
    const deadlineMs = startedMs + FUZZ_TIME_BUDGET_MS;
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(workers.map((worker) => worker.run(FRAMES_PER_ROUND_PER_WORKER, deadlineMs)));
      expect(isAlive(broker.pid), `broker alive after round ${round}`).toBe(true);
      expect(await healthzStatus(port), `/healthz after round ${round}`).toBe(200);
    }
    const fuzzMs = Date.now() - startedMs;
    for (const worker of workers) worker.close();

    const categories = new Map<string, number>();
    for (const worker of workers) for (const [category, count] of worker.fuzzer.categoryCounts) categories.set(category.split(':')[0]!, (categories.get(category.split(':')[0]!) ?? 0) + count);
    console.log(JSON.stringify({
      seed: SEED, fuzzMs, framesSent: stats.framesSent, probes: stats.probes, silentAcks0: stats.silent, pushes: stats.pushes, reconnects: stats.reconnects, controlBatchesAcked: stats.controlBatchesAcked,
      closesByCode: sortedEntries(stats.closesByCode), responsesByTopCode: sortedEntries(stats.responsesByCode),
      producePartitionResultsByCode: sortedEntries(ledger.resultsByCode), categories: sortedEntries(categories),
    }));
    expect(stats.violations).toEqual([]);
    expect(stats.framesSent).toBeGreaterThanOrEqual(FRAMES_MIN);

    // Still a working broker: a normal produce is acknowledged and read back.
    const client = await WireClient.ready(port);
    const finalValue = `${TAG_PREFIX}final`;
    const produced = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records: encodeRecordBatch({ records: [{ key: null, value: encoder.encode(finalValue), headers: [], timestamp: Date.now() }] }) }] }] });
    if (produced.headerOnly) throw new Error(`final produce failed: ${produced.errorCode}`);
    expect(produced.topics[0]!.partitions[0]!.errorCode).toBe(0);
    ledger.acked.get(0)?.add(finalValue) ?? ledger.acked.set(0, new Set([finalValue]));

    // The log holds exactly what was acknowledged (and maybe what acks 0 or a timeout left open).
    const problems: string[] = [];
    for (let partition = 0; partition < PARTITION_COUNT; partition++) {
      const stored = await storedValues(client, partition);
      if (partition === 0) expect(stored).toContain(finalValue);
      problems.push(...ledger.verify(partition, stored));
      const acked = ledger.acked.get(partition)?.size ?? 0;
      console.log(`partition ${partition}: ${stored.length} records stored, ${acked} acknowledged, ${ledger.maybe.get(partition)?.size ?? 0} maybe (acks 0 or timed out), ${ledger.refused.get(partition)?.size ?? 0} refused`);
      const dump = await runCli(['dump-log', join(dataDir, `${TOPIC}-${partition}`), '--verify', '--batch-bytes-max', String(BATCH_BYTES_MAX)]);
      expect(dump.code, dump.stdout.split('\n').filter((line) => line.startsWith('PROBLEM')).slice(0, 5).join('\n') + dump.stderr).toBe(0);
      expect(dump.stdout).toContain(`records ${stored.length} `);
    }
    client.close();
    expect(problems.slice(0, 20)).toEqual([]);
    expect(isAlive(broker.pid)).toBe(true);
  }, 120_000);
});
