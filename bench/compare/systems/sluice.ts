import { mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchClusterBroker, BenchResources } from '../../cluster/cluster-processes.js';
import type { AckMeaning, SystemUnderTest } from '../system.js';
import { SLUICE_STANDALONE_NAME } from './sluice-names.js';
import { SluiceSystem, SluiceWorkloads } from './sluice-workloads.js';

/**
 * Sluice standalone: one `sluice broker --port 0 --host 127.0.0.1 --data-dir <tmp>` process from
 * dist/, driven through the public client with acks=1, which the broker answers only after the
 * batch is fdatasynced (group commit). The harness's strace check confirms or refutes that.
 */

/** "sluice 0.1.0", from package.json (the broker and the client ship together). */
export function sluiceVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `sluice ${packageJson.version}`;
}

/** The standalone broker (the comparison's main row). */
export async function sluiceSystems(log: (line: string) => void): Promise<SystemUnderTest[]> {
  void log;
  return [new SluiceStandalone(sluiceVersion())];
}

class SluiceStandalone extends SluiceSystem {
  readonly name = SLUICE_STANDALONE_NAME;
  readonly client: string;
  readonly server: string;
  readonly replicas = 1;
  private readonly resources = new BenchResources();
  private broker: BenchClusterBroker | null = null;
  private dataDir: string | null = null;

  constructor(version: string) {
    super();
    this.client = `${version} client (ws)`;
    this.server = `${version} broker`;
  }

  async start(): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), 'sluice-compare-'));
    this.resources.addDir(this.dataDir);
    this.broker = await BenchClusterBroker.start(1, ['--port', '0', '--host', '127.0.0.1', '--data-dir', this.dataDir], this.resources);
    const started = this.broker.logLines.find((line) => line.msg === 'broker started');
    const port = started?.['port'];
    if (typeof port !== 'number') throw new Error(`the broker's "broker started" line has no port: ${JSON.stringify(started)}`);
    this.workloads = await SluiceWorkloads.connect({ brokerUrls: [`ws://127.0.0.1:${port}`], acks: 1, replicationFactor: 1, minInsyncReplicas: 1 });
  }

  async stop(): Promise<void> {
    this.workloads?.close();
    this.workloads = null;
    await this.broker?.stop('SIGTERM');
    this.broker = null;
    // Whatever a failed start left behind: killed by PID, directories removed.
    await this.resources.abort();
    this.dataDir = null;
  }

  serverPids(): readonly number[] {
    return this.broker === null ? [] : [this.broker.pid];
  }

  ackMeaning(): AckMeaning {
    return { fsynced: true, description: 'acks=1: fdatasync on the broker before the ack (group commit)', evidence: 'documented (docs/replication.md); not traced' };
  }
}
