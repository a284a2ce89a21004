import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { AckMeaning, SystemUnderTest } from '../system.js';
import { NatsSystem } from './nats-system.js';

const BINARY_NAME = 'nats-server';
const BINARY_DEBIAN_PATH = '/usr/sbin/nats-server';
const VERSION_TIMEOUT_MS = 10_000;
/** `sync_interval` (and `always`) arrived in nats-server 2.10. */
const SYNC_INTERVAL_MIN_VERSION: SemVer = { major: 2, minor: 10 };

interface SemVer { readonly major: number; readonly minor: number }

/**
 * The NATS JetStream rows of the comparison: R1 over TCP (`nats`), R3 on a three-node loopback
 * cluster, R1 over WebSocket (`nats.ws`, like Sluice), and, when the server is 2.10 or newer, R1
 * with `sync_interval: always`. Empty, after one line, when nats-server is not installed.
 */
export async function natsSystems(log: (line: string) => void): Promise<SystemUnderTest[]> {
  const binary = await findNatsServer();
  if (binary === null) {
    log(`NATS JetStream: skipped, no ${BINARY_DEBIAN_PATH} and no ${BINARY_NAME} on PATH`);
    return [];
  }
  const version = await natsServerVersion(binary);
  const server = `nats-server ${version.text}`;
  const systems: SystemUnderTest[] = [
    new NatsSystem({ name: 'NATS JetStream R1 (file)', binary, server, nodeCount: 1, transport: 'tcp', syncAlways: false, ackMeaning: timerSyncAck(1) }),
    new NatsSystem({ name: 'NATS JetStream R3 (file, 3-node cluster)', binary, server, nodeCount: 3, transport: 'tcp', syncAlways: false, ackMeaning: timerSyncAck(3) }),
    new NatsSystem({ name: 'NATS JetStream R1 (file, WebSocket, nats.ws)', binary, server, nodeCount: 1, transport: 'websocket', syncAlways: false, ackMeaning: timerSyncAck(1) }),
  ];
  if (atLeast(version, SYNC_INTERVAL_MIN_VERSION)) {
    systems.push(new NatsSystem({ name: 'NATS JetStream R1 (file, sync_interval: always)', binary, server, nodeCount: 1, transport: 'tcp', syncAlways: true, ackMeaning: syncAlwaysAck() }));
  } else {
    log(`NATS JetStream: ${server} has no sync_interval (2.10+), so no fsync-per-ack row`);
  }
  return systems;
}

/**
 * Without `sync_interval` (nats-server < 2.10) a PubAck follows the write(2) of the record into
 * the stream's message block, not an fsync: v2.9.10 server/stream.go sets the stream store's
 * SyncInterval to 2 minutes (filestore.go's own default is 60 s), and the R3 Raft WAL uses
 * 5 minutes (server/jetstream_cluster.go). The evidence is from tracing this bench's own servers
 * (nats-server 2.9.10, Debian), nodes and clients as configured here.
 */
function timerSyncAck(replicas: 1 | 3): AckMeaning {
  const traced = 'strace -f -e trace=fsync,fdatasync,sync_file_range,msync -p <pid> during 1,000 sequential acked js.publish';
  const control = 'control: the same trace with pwrite64 shows ~1 pwrite64 per record into the message block before its ack';
  if (replicas === 1) {
    return {
      fsynced: false,
      description: 'page cache (written before ack; stream files fsynced on a 2-min timer)',
      evidence: `${traced}: 0 sync calls (nats-server 2.9.10; ${control}); v2.9.10 server/stream.go SyncInterval = 2 min`,
    };
  }
  return {
    fsynced: false,
    description: 'page cache on a Raft quorum (2 of 3) before ack; fsync on 2-min (stream) and 5-min (Raft WAL) timers',
    evidence: `${traced}, traced on all 3 nodes: 0 sync calls on each (nats-server 2.9.10); v2.9.10 server/stream.go SyncInterval = 2 min, server/jetstream_cluster.go Raft WAL 5 min`,
  };
}

function syncAlwaysAck(): AckMeaning {
  return {
    fsynced: true,
    description: 'fsync before ack (sync_interval: always)',
    evidence: 'documented (nats-server 2.10+ sync_interval: always); not traced here',
  };
}

async function findNatsServer(): Promise<string | null> {
  const pathDirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const candidate of [BINARY_DEBIAN_PATH, ...pathDirs.map((dir) => join(dir, BINARY_NAME))]) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next
    }
  }
  return null;
}

// `nats-server --version` prints e.g. "nats-server: v2.9.10".
async function natsServerVersion(binary: string): Promise<SemVer & { readonly text: string }> {
  const { stdout } = await promisify(execFile)(binary, ['--version'], { timeout: VERSION_TIMEOUT_MS });
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (match === null) throw new Error(`cannot read the version of ${binary} from: ${stdout.trim()}`);
  return { major: Number(match[1]), minor: Number(match[2]), text: `${match[1]}.${match[2]}.${match[3]}` };
}

function atLeast(version: SemVer, minimum: SemVer): boolean {
  return version.major > minimum.major || (version.major === minimum.major && version.minor >= minimum.minor);
}
