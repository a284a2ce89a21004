import { Command, Option } from 'commander';
import { Connection, expectOk } from '../client/index.js';
import { nodeWebSocket } from '../client/node.js';
import { ApiKey, type MetadataResponse } from '../protocol/index.js';
import { getJson, httpBaseOfBroker } from './broker-http.js';
import { DEFAULT_BROKER_URL, fail, printLine } from './cli-connection.js';
import { clusterDescriptionText, describeClusterFrom, type ReplicaReport } from './cluster-description.js';

interface DescribeFlags {
  readonly broker: string;
  readonly format: 'text' | 'json';
  readonly internal?: true;
}

/** `sluice cluster describe`. */
export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('inspect a cluster: brokers, controller, partition replicas');
  cluster.command('describe')
    .description('brokers, the controller, and each partition\'s leader, epoch, replicas, ISR and per-replica high watermark and log end')
    .option('--broker <url>', 'any broker\'s WebSocket URL', DEFAULT_BROKER_URL)
    .addOption(new Option('--format <format>', 'text: tables; json: one object').choices(['text', 'json']).default('text'))
    .option('--internal', 'include internal topics (__consumer_offsets)')
    .action(async (flags: DescribeFlags) => {
      try {
        const metadata = await metadataFrom(flags.broker);
        const topics = metadata.topics.filter((topic) => flags.internal === true || !topic.name.startsWith('__'));
        const description = describeClusterFrom({ ...metadata, topics }, await replicaReports(metadata));
        if (flags.format === 'json') printLine(JSON.stringify(description));
        else for (const line of clusterDescriptionText(description)) printLine(line);
      } catch (error) {
        fail('cluster describe', error);
      }
    });
  return cluster;
}

// One Metadata answer, so brokers, controller and partitions are one broker's view at one moment.
async function metadataFrom(brokerUrl: string): Promise<MetadataResponse> {
  const connection = await Connection.connect({ url: brokerUrl, webSocketFactory: nodeWebSocket, clientId: 'sluice-cli-cluster-describe' });
  try {
    return expectOk(await connection.request(ApiKey.Metadata, { allTopics: true, topics: [] }));
  } finally {
    connection.close();
  }
}

// Every listed broker's GET /v1/replicas, at once; a broker that does not answer is reported on
// stderr and its replicas' offsets stay unknown: describing a cluster with a member down is when
// it is needed most.
async function replicaReports(metadata: MetadataResponse): Promise<Map<number, ReplicaReport>> {
  const reports = new Map<number, ReplicaReport>();
  await Promise.all(metadata.brokers.map(async (broker) => {
    const base = httpBaseOfBroker(broker);
    try {
      const report = await getJson(base, '/v1/replicas') as Partial<ReplicaReport>;
      if (!Array.isArray(report.replicas)) throw new Error('the answer has no "replicas" list');
      reports.set(broker.brokerId, report as ReplicaReport);
    } catch (error) {
      process.stderr.write(`sluice cluster describe: broker ${broker.brokerId} at ${base}: ${(error as Error).message}; its replicas' offsets are unknown\n`);
    }
  }));
  return reports;
}
