import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { Producer, type Acks, type RecordMetadata } from '../client/index.js';
import { DEFAULT_BROKER_URL, connectionOptions, fail, printLine } from './cli-connection.js';

interface ProduceFlags {
  readonly topic: string;
  readonly key?: string;
  readonly acks: string;
  readonly printOffsets?: true;
  readonly format: 'text' | 'json';
  readonly broker: string;
}

/**
 * `sluice produce`: one record per line of stdin (the line is the value, UTF-8). Exits 0 only
 * when every line read was acknowledged; with --print-offsets, prints where each went, in input
 * order.
 */
export function produceCommand(): Command {
  return new Command('produce').description('produce stdin lines as records')
    .requiredOption('--topic <name>', 'topic to produce to')
    .option('--key <key>', 'key for every record (default: none, spread over partitions)')
    .addOption(new Option('--acks <acks>', 'acknowledgement: 0, 1 or all').choices(['0', '1', 'all', '-1']).default('all'))
    .option('--print-offsets', 'print partition, offset, key and value of each acknowledged record')
    .addOption(new Option('--format <format>', 'output format of --print-offsets').choices(['text', 'json']).default('text'))
    .option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((flags: ProduceFlags) => produce(flags));
}

// Records read from stdin but not yet acknowledged; beyond it, reading waits (bounded memory).
const UNACKNOWLEDGED_RECORDS_MAX = 8192;

async function produce(flags: ProduceFlags): Promise<void> {
  const acks: Acks = flags.acks === 'all' ? 'all' : (Number(flags.acks) as 0 | 1 | -1);
  const producer = new Producer({ ...connectionOptions(flags.broker, 'sluice-cli-produce'), acks, idempotent: acks !== 0 });
  let lines = 0;
  let acknowledged = 0;
  let firstFailure: Error | null = null;
  // Each line's step waits for the previous one, so output follows input order.
  let previous: Promise<void> = Promise.resolve();
  let outstanding = 0;
  let slotFreed: (() => void) | null = null;
  const settled = (): void => {
    outstanding -= 1;
    slotFreed?.();
    slotFreed = null;
  };
  try {
    await producer.connect();
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      lines += 1;
      const timestamp = Date.now();
      const sent = producer.send({ topic: flags.topic, key: flags.key ?? null, value: line, timestamp });
      outstanding += 1;
      const step = previous.then(() => sent).then((metadata) => {
        acknowledged += 1;
        if (flags.printOffsets === true) printRecord(flags, metadata, timestamp, line);
      }, (error: unknown) => {
        firstFailure ??= error as Error;
      }).finally(settled);
      previous = step;
      while (outstanding >= UNACKNOWLEDGED_RECORDS_MAX) await new Promise<void>((resolve) => { slotFreed = resolve; });
    }
    await producer.flush();
    await previous;
    if (firstFailure !== null) throw new Error(`${lines - acknowledged} of ${lines} records were not acknowledged; first: ${(firstFailure as Error).message}`);
  } catch (error) {
    fail('produce', error);
  } finally {
    await producer.close().catch(() => undefined);
  }
  if (acknowledged !== lines) process.exitCode = 1;
}

function printRecord(flags: ProduceFlags, metadata: RecordMetadata, timestamp: number, value: string): void {
  const key = flags.key ?? null;
  if (flags.format === 'json') {
    printLine(JSON.stringify({ topic: metadata.topic, partition: metadata.partition, offset: metadata.offset, timestamp, key, value }));
  } else {
    printLine(`${metadata.partition}\t${metadata.offset ?? '-'}\t${key ?? ''}\t${value}`);
  }
}
