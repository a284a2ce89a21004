import { Command } from 'commander';
import { Admin } from '../client/index.js';
import type { TopicConfig } from '../cluster/metadata-store.js';
import { getJson, httpBaseOf } from './broker-http.js';
import { DEFAULT_BROKER_URL, connectionOptions, fail, printLine } from './cli-connection.js';

/** `sluice topic create|list|describe|delete`. */
export function topicCommand(): Command {
  const topic = new Command('topic').description('create, list, describe and delete topics');
  topic.command('create').argument('<name>').option('--partitions <count>', 'partition count', '1')
    .option('--replication-factor <count>', 'replicas of each partition (at most the live brokers)', '1')
    .option('--min-insync-replicas <count>', 'acks=all needs this many in-sync replicas (default: the broker\'s, 1)')
    .option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((name: string, flags: CreateFlags) => withAdmin(flags.broker, 'topic create', async (admin) => {
      const replicationFactor = parsePositive(flags.replicationFactor, '--replication-factor');
      const minInsyncReplicas = flags.minInsyncReplicas === undefined ? undefined : parsePositive(flags.minInsyncReplicas, '--min-insync-replicas');
      await admin.createTopic(name, parsePositive(flags.partitions, '--partitions'), replicationFactor, { minInsyncReplicas });
      printLine(`created ${name}`);
    }));
  topic.command('list').option('--internal', 'include internal topics').option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((flags: { internal?: true; broker: string }) => withAdmin(flags.broker, 'topic list', async (admin) => {
      for (const name of await admin.listTopics({ includeInternal: flags.internal === true })) printLine(name);
    }));
  topic.command('describe').argument('<name>').option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((name: string, flags: { broker: string }) => withAdmin(flags.broker, 'topic describe', async (admin) => {
      const [described] = await admin.describeTopics([name]);
      const partitions = described?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic ${name} does not exist`);
      const ends = await admin.listOffsets(partitions.map((p) => ({ topic: name, partition: p.partition, spec: 'latest' as const })));
      const starts = await admin.listOffsets(partitions.map((p) => ({ topic: name, partition: p.partition, spec: 'earliest' as const })));
      // Metadata does not carry topic configs; the broker's HTTP API does, on the same port.
      const { config } = await getJson(httpBaseOf(flags.broker), `/v1/topics/${encodeURIComponent(name)}`) as { config: TopicConfig };
      printLine(`topic ${name} partitions ${partitions.length} replication-factor ${partitions[0]!.replicas.length} min-insync-replicas ${config.minInsyncReplicas}`);
      for (const [index, p] of partitions.entries()) {
        printLine(`  partition ${p.partition} leader ${p.leaderId} epoch ${p.leaderEpoch} replicas ${p.replicas.join(',')} isr ${p.isr.join(',')} offsets [${starts[index]?.offset ?? '?'}, ${ends[index]?.offset ?? '?'})`);
      }
    }));
  topic.command('delete').argument('<name>').option('--broker <url>', 'broker WebSocket URL', DEFAULT_BROKER_URL)
    .action((name: string, flags: { broker: string }) => withAdmin(flags.broker, 'topic delete', async (admin) => {
      await admin.deleteTopic(name);
      printLine(`deleted ${name}`);
    }));
  return topic;
}

interface CreateFlags {
  readonly partitions: string;
  readonly replicationFactor: string;
  readonly minInsyncReplicas?: string;
  readonly broker: string;
}

async function withAdmin(brokerUrl: string, command: string, work: (admin: Admin) => Promise<void>): Promise<void> {
  const admin = new Admin(connectionOptions(brokerUrl, `sluice-cli-${command.replace(' ', '-')}`));
  try {
    await admin.connect();
    await work(admin);
  } catch (error) {
    fail(command, error);
  } finally {
    admin.close();
  }
}

/** A whole number of at least 1, or an error naming the flag. */
export function parsePositive(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new Error(`${flag} must be a whole number of at least 1, not ${JSON.stringify(value)}`);
  return number;
}
