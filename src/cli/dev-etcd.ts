import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { SupervisedProcess, describeExit } from './supervised-process.js';

/** What to tell someone whose PATH has no etcd. */
export const ETCD_INSTALL_HINT = 'etcd was not found on PATH: install etcd 3.4+ (Debian/Ubuntu: apt-get install etcd-server) or put its binary on PATH';

/** The etcd member name of a dev cluster; fixed, so that a restart finds its own member in the data directory. */
const MEMBER_NAME = 'sluice-dev';

/** The full path of `command` on PATH, or null when it is not there (or not executable). */
export async function findOnPath(command: string, path = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

/** A TCP port free on `host` right now (bind to 0, read it, close). Another process may take it before it is used. */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port was bound'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** A single-member etcd for a dev cluster. */
export interface DevEtcd {
  readonly url: string;
  readonly process: SupervisedProcess;
}

/**
 * Starts `etcdPath` on free loopback ports with its data in `dataDir` (an existing one is resumed:
 * etcd then ignores the initial-cluster flags and keeps its data, whatever ports it listens on
 * now) and resolves once it reports itself healthy (it has a leader).
 */
export async function startDevEtcd(etcdPath: string, host: string, dataDir: string, logPath: string, timeoutMs: number): Promise<DevEtcd> {
  const url = `http://${host}:${await freePort(host)}`;
  const peerUrl = `http://${host}:${await freePort(host)}`;
  const child = await SupervisedProcess.start('etcd', etcdPath, [
    '--name', MEMBER_NAME,
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${MEMBER_NAME}=${peerUrl}`,
    '--initial-cluster-state', 'new',
  ], logPath);
  try {
    await waitUntilHealthy(url, child, timeoutMs);
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
  return { url, process: child };
}

async function waitUntilHealthy(url: string, child: SupervisedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`etcd exited while starting (${describeExit(await child.exited)}); see ${child.logPath}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = await response.text();
      if (response.ok && /"health"\s*:\s*"true"/.test(body)) return;
      last = `HTTP ${response.status} ${body.trim()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`etcd at ${url} was not healthy within ${timeoutMs} ms (${last}); see ${child.logPath}`);
}
