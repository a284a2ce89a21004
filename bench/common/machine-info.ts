import { readFile, realpath, statfs } from 'node:fs/promises';
import os from 'node:os';

/** Where and on what a run happened, so results from different machines are not compared blindly. */
export interface MachineInfo {
  readonly dateIso: string;
  readonly platform: string;
  readonly osType: string;
  readonly osRelease: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly nodeVersion: string;
  readonly v8Version: string;
  readonly dataDir: DataDirInfo;
}

/** The file system the bench wrote to. */
export interface DataDirInfo {
  readonly path: string;
  /** statfs f_type, e.g. 0xef53 for ext2/3/4. */
  readonly statfsType: string;
  readonly freeBytes: number;
  readonly totalBytes: number;
  /** From /proc/self/mounts (Linux); null elsewhere or when no entry matches. */
  readonly mount: { readonly device: string; readonly mountPoint: string; readonly fsType: string; readonly options: string } | null;
}

export async function describeMachine(dataDir: string): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    dateIso: new Date().toISOString(),
    platform: os.platform(),
    osType: os.type(),
    osRelease: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    memoryBytes: os.totalmem(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    dataDir: await describeDataDir(dataDir),
  };
}

async function describeDataDir(path: string): Promise<DataDirInfo> {
  const stats = await statfs(path);
  return {
    path,
    statfsType: `0x${stats.type.toString(16)}`,
    freeBytes: stats.bavail * stats.bsize,
    totalBytes: stats.blocks * stats.bsize,
    mount: await mountOf(await realpath(path)),
  };
}

// The mount entry with the longest mount point that contains `path`.
async function mountOf(path: string): Promise<DataDirInfo['mount']> {
  let text: string;
  try {
    text = await readFile('/proc/self/mounts', 'utf8');
  } catch {
    return null;
  }
  let best: DataDirInfo['mount'] = null;
  for (const line of text.split('\n')) {
    const [device, rawMountPoint, fsType, options] = line.split(' ');
    if (device === undefined || rawMountPoint === undefined || fsType === undefined || options === undefined) continue;
    const mountPoint = rawMountPoint.replace(/\\040/g, ' ');
    const contains = path === mountPoint || path.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
    if (contains && (best === null || mountPoint.length >= best.mountPoint.length)) best = { device, mountPoint, fsType, options };
  }
  return best;
}
