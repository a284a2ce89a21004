import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Compiles src/ and bench/ once, so tests that spawn `dist/` never run stale code, and makes sure
 * the `etcd` binary the cluster tests start (test/helpers/etcd.ts) is on PATH.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  ensureEtcd();
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', root], { stdio: 'inherit' });
}

function ensureEtcd(): void {
  if (findOnPath('etcd') !== null) return;
  // On Debian as root (CI containers), install it the way .ci/run does; anywhere else, say what is missing.
  if (existsSync('/etc/debian_version') && process.getuid?.() === 0) {
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server'], { stdio: 'inherit' });
    if (findOnPath('etcd') !== null) return;
  }
  throw new Error('etcd is not on PATH: the cluster tests run a real etcd v3 (Debian/Ubuntu: apt-get install etcd-server; elsewhere: https://etcd.io/docs/latest/install/)');
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
