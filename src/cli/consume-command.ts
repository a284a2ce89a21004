import { Command, Option } from 'commander';
import { Admin, Consumer, type ConsumerRecord, type StartPosition } from '../client/index.js';
import { DEFAULT_BROKER_URL, connectionOptions, fail, printLine, text } from './cli-connection.js';
import { parsePositive } from './topic-command.js';

interface ConsumeFlags {
  readonly topic: string;
  readonly partition?: string;
  readonly fromBeginning?: true;
  readonly group?: string;
  readonly maxRecords?: string;
  readonly follow?: true;
  readonly format: 'text' | 'json';
  readonly broker: string;
}

// How often a non-following consume checks whether it has reached the end it saw at start.
const CAUGHT_UP_CHECK_MS = 50;

/**
 * `sluice consume`: prints records of a topic (all partitions, or one). Without --follow it
 * stops once it has read up to the end offsets it saw at start; with --follow it waits for more
 * until --max-records or Ctrl-C. With --group it starts from the group's committed offsets (or
 * the beginning / end when there are none) and commits what it printed before it exits.
 */
export function consumeCommand(): Command {
  return new Command('consume').description('print records of a topic')
    .requiredOption('--topic <name>', 'topic to read')
    .option('--partition <number>', 'read only this partition')
    .option('--from-beginning', 'start at the earliest offset (default: the end, or the committed offset with --group)')
    .option('--group <id>', 'consumer group: start from its committed offsets and commit progress')
    .option('--max-records <count>', 'stop after this many records')
    .option('--follow', 'keep waiting for new records')
    .addOption(new Option('--format <format>', 'text: the value per line; json: one object per record').choices(['text', 'json']).default('text'))
    .option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((flags: ConsumeFlags) => consume(flags));
}

async function consume(flags: ConsumeFlags): Promise<void> {
  const options = connectionOptions(flags.broker, 'sluice-cli-consume');
  const fallback = flags.fromBeginning === true ? 'earliest' : 'latest';
  const from: StartPosition = flags.group !== undefined ? 'committed' : fallback;
  const consumer = new Consumer({ ...options, groupId: flags.group, from, fallbackPosition: fallback, autoCommit: flags.group !== undefined });
  const admin = new Admin(options);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let timer: NodeJS.Timeout | undefined;
  try {
    await admin.connect();
    const partitions = await partitionsToRead(admin, flags);
    const ends = new Map((await admin.listOffsets(partitions.map((partition) => ({ topic: flags.topic, partition, spec: 'latest' as const }))))
      .map((listed) => [listed.partition, listed.offset]));
    await consumer.assign(partitions.map((partition) => ({ topic: flags.topic, partition })));
    const maxRecords = flags.maxRecords === undefined ? Number.POSITIVE_INFINITY : parsePositive(flags.maxRecords, '--max-records');
    const caughtUp = (): boolean => consumer.progress().every((p) => p.position >= (ends.get(p.partition) ?? 0));
    if (flags.follow !== true) {
      timer = setInterval(() => { if (caughtUp()) stop.abort(); }, CAUGHT_UP_CHECK_MS);
      if (caughtUp()) stop.abort();
    }
    let printed = 0;
    for await (const record of consumer.records({ signal: stop.signal })) {
      printRecord(flags.format, record);
      consumer.markConsumed(record);
      printed += 1;
      if (printed >= maxRecords) break;
    }
  } catch (error) {
    fail('consume', error);
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    admin.close();
    await consumer.close().catch((error: unknown) => fail('consume', error));
  }
}

async function partitionsToRead(admin: Admin, flags: ConsumeFlags): Promise<number[]> {
  const [described] = await admin.describeTopics([flags.topic]);
  const all = (described?.partitions ?? []).map((p) => p.partition);
  if (all.length === 0) throw new Error(`topic ${flags.topic} does not exist`);
  if (flags.partition === undefined) return all;
  const partition = Number(flags.partition);
  if (!all.includes(partition)) throw new Error(`topic ${flags.topic} has no partition ${flags.partition}`);
  return [partition];
}

function printRecord(format: 'text' | 'json', record: ConsumerRecord): void {
  if (format === 'text') return printLine(text(record.value) ?? '');
  printLine(JSON.stringify({
    topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
    key: text(record.key), value: text(record.value),
  }));
}
