import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/**
 * A real single-member etcd for integration tests: the `etcd` binary on PATH (test/global-setup.ts
 * checks it is there), on 127.0.0.1 with free ports and a temp data directory, stopped by PID.
 */
export interface EtcdProcess {
  /** `http://127.0.0.1:<port>`, for `endpoints`. */
  readonly endpoint: string;
  readonly pid: number;
  /** What etcd wrote to stderr (its log), for diagnosing a failure. */
  readonly output: () => string;
  /** SIGSTOP: etcd stops answering but keeps its sockets, as a hung or partitioned member. */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** SIGTERM, SIGKILL after `stopTimeoutMs`, then removes the data directory. */
  stop(): Promise<void>;
}

/** How long `startEtcd` waits for etcd to answer a put and a get. */
export const ETCD_START_TIMEOUT_MS = 20_000;
/** How long `stop` waits after SIGTERM before SIGKILL. */
export const ETCD_STOP_TIMEOUT_MS = 5_000;

/** A port free on 127.0.0.1 right now (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      server.close(() => resolve(address.port));
    });
  });
}

/** Starts etcd and resolves once it answers a put and a linearizable get. */
export async function startEtcd(): Promise<EtcdProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-etcd-'));
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const name = `sluice-test-${randomBytes(4).toString('hex')}`;
  const child = spawn('etcd', [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = once(() => stopProcess(child, exited).finally(() => rm(dataDir, { recursive: true, force: true })));
  try {
    await waitUntilAnswering(clientUrl, exited, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint: clientUrl,
    pid: child.pid!,
    output: () => output,
    pause: async () => {
      process.kill(child.pid!, 'SIGSTOP');
      await stoppedState(child.pid!);
    },
    resume: () => { process.kill(child.pid!, 'SIGCONT'); },
    stop,
  };
}

async function waitUntilAnswering(endpoint: string, exited: Promise<void>, output: () => string): Promise<void> {
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 1_000 });
  const deadlineMs = Date.now() + ETCD_START_TIMEOUT_MS;
  let lastError: unknown = null;
  let gone = false;
  void exited.then(() => { gone = true; });
  try {
    for (let attempt = 0; attempt < 200 && Date.now() < deadlineMs && !gone; attempt++) {
      try {
        await client.put('/sluice-test-ready').value('1').options({ deadline: Date.now() + 1_000 });
        if (await client.get('/sluice-test-ready').string() === '1') return;
      } catch (error) {
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`etcd at ${endpoint} did not answer within ${ETCD_START_TIMEOUT_MS} ms${gone ? ' (it exited)' : ''}: ${String(lastError)}\n${output()}`);
  } finally {
    client.close();
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // A paused etcd ignores SIGTERM until continued.
  process.kill(child.pid!, 'SIGCONT');
  process.kill(child.pid!, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), ETCD_STOP_TIMEOUT_MS); });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
}

function once(action: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | null = null;
  return () => (result ??= action());
}

/** Waits (at most 2 s) until the kernel reports `pid` stopped: SIGSTOP is delivered asynchronously. */
export async function stoppedState(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The state follows the parenthesised command name: "pid (comm) T ...".
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`pid ${pid} did not stop within 2 s of SIGSTOP`);
}
