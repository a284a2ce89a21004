import { assert } from '../errors/assert.js';
import { topicCollisionKey } from './topic-rules.js';

/**
 * Where the etcd metadata store keeps each thing (docs/cluster.md, "Metadata in etcd"). Every key
 * is under `<prefix>/`, so clusters with different prefixes share one etcd without seeing each
 * other: the trailing slash matters, since `/sluice` is a string prefix of `/sluice2`.
 *
 *   <prefix>/brokers/<brokerId>           BrokerInfo, under the broker's lease
 *   <prefix>/controller                   the controller's broker id, under its lease
 *   <prefix>/topics/<name>                a topic: id, creation time, config, replica assignment
 *   <prefix>/topic-claims/<collisionKey>  the topic name holding a collision key ('.' as '_')
 *   <prefix>/partitions/<name>/<p>        a partition's state once it has changed from its initial one
 *   <prefix>/producer-id                  written to allocate a producer id (its revision)
 *
 * Topic names are `[a-zA-Z0-9._-]` (topic-rules.ts), so they never contain the `/` that separates
 * key segments. Partition and broker ids are decimal without leading zeros.
 */

/** What a key under the prefix names. */
export type ParsedKey =
  | { readonly kind: 'broker'; readonly brokerId: number }
  | { readonly kind: 'controller' }
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'topic-claim' }
  | { readonly kind: 'partition'; readonly topic: string; readonly partition: number }
  | { readonly kind: 'producer-id' }
  | { readonly kind: 'other' };

/** A key range `[start, end)` as etcd takes it. */
export interface KeyRange {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
}

/** The default prefix: one cluster per etcd unless told otherwise. */
export const DEFAULT_ETCD_PREFIX = '/sluice';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The keys of one cluster, under one prefix. */
export class EtcdKeys {
  /** `<prefix>/`: every key of this cluster starts with it. */
  readonly root: string;

  constructor(prefix: string) {
    assert(prefix.startsWith('/') && !prefix.endsWith('/') && prefix.length > 1, `etcd prefix ${JSON.stringify(prefix)} starts with '/' and does not end with one`);
    this.root = `${prefix}/`;
  }

  // One accessor per key or range of the layout above.
  broker(brokerId: number): Buffer { return this.key(`brokers/${brokerId}`); }
  get brokers(): KeyRange { return this.range('brokers/'); }
  get controller(): Buffer { return this.key('controller'); }
  topic(name: string): Buffer { return this.key(`topics/${name}`); }
  get topics(): KeyRange { return this.range('topics/'); }
  topicClaim(name: string): Buffer { return this.key(`topic-claims/${topicCollisionKey(name)}`); }
  partition(topic: string, partition: number): Buffer { return this.key(`partitions/${topic}/${partition}`); }
  partitionsOf(topic: string): KeyRange { return this.range(`partitions/${topic}/`); }
  get partitions(): KeyRange { return this.range('partitions/'); }
  get producerId(): Buffer { return this.key('producer-id'); }
  get all(): KeyRange { return this.range(''); }

  /** What `key` names; 'other' for keys outside the prefix or outside the layout. */
  parse(key: Buffer): ParsedKey {
    const text = key.toString('utf8');
    if (!text.startsWith(this.root)) return { kind: 'other' };
    const parts = text.slice(this.root.length).split('/');
    const [first, second, third] = parts;
    if (parts.length === 1 && first === 'controller') return { kind: 'controller' };
    if (parts.length === 1 && first === 'producer-id') return { kind: 'producer-id' };
    if (parts.length === 2 && first === 'brokers' && DECIMAL.test(second!)) return { kind: 'broker', brokerId: Number(second) };
    if (parts.length === 2 && first === 'topics' && second !== '') return { kind: 'topic', topic: second! };
    if (parts.length === 2 && first === 'topic-claims') return { kind: 'topic-claim' };
    if (parts.length === 3 && first === 'partitions' && second !== '' && DECIMAL.test(third!)) {
      return { kind: 'partition', topic: second!, partition: Number(third) };
    }
    return { kind: 'other' };
  }

  private key(relative: string): Buffer {
    return Buffer.from(this.root + relative, 'utf8');
  }

  private range(relative: string): KeyRange {
    const key = this.key(relative);
    return { key, rangeEnd: prefixRangeEnd(key) };
  }
}

/** The end of the range of keys starting with `prefix` (etcd's convention: the prefix plus one). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
