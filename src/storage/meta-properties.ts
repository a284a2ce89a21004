import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './durable-file.js';

/**
 * `meta.properties` at the top of a data directory: which broker and cluster own it, and the
 * on-disk format version, so a directory is never silently opened by the wrong broker or by a
 * build that does not understand it. Java-properties text, as Kafka writes it:
 *
 *   version=1
 *   broker.id=0
 *   cluster.id=8f1c...
 */
export const DATA_FORMAT_VERSION = 1;
export const META_PROPERTIES_FILE = 'meta.properties';

/** What meta.properties records. */
export interface MetaProperties {
  readonly version: number;
  readonly brokerId: number;
  readonly clusterId: string;
}

/** Reads meta.properties, creating it for a new directory; throws if it belongs elsewhere. */
export async function ensureMetaProperties(dataDir: string, brokerId: number): Promise<MetaProperties> {
  const path = join(dataDir, META_PROPERTIES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const created = { version: DATA_FORMAT_VERSION, brokerId, clusterId: randomUUID() };
    await writeFileAtomically(path, `version=${created.version}\nbroker.id=${brokerId}\ncluster.id=${created.clusterId}\n`);
    return created;
  }
  const meta = parseMetaProperties(text);
  if (typeof meta === 'string') throw new Error(`${path}: ${meta}`);
  if (meta.version !== DATA_FORMAT_VERSION) throw new Error(`${path}: format version ${meta.version}, this build reads ${DATA_FORMAT_VERSION}`);
  if (meta.brokerId !== brokerId) throw new Error(`${path}: belongs to broker ${meta.brokerId}, not broker ${brokerId}`);
  return meta;
}

/** Parses the file's text, or says what is wrong with it. */
export function parseMetaProperties(text: string): MetaProperties | string {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at < 1) return `malformed line ${JSON.stringify(line.slice(0, 80))}`;
    fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const version = Number(fields.get('version'));
  const brokerId = Number(fields.get('broker.id'));
  const clusterId = fields.get('cluster.id');
  if (!Number.isInteger(version) || !Number.isInteger(brokerId) || clusterId === undefined || clusterId === '') {
    return 'missing or malformed version, broker.id or cluster.id';
  }
  return { version, brokerId, clusterId };
}
