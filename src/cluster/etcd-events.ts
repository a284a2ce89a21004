import type { IKeyValue } from 'etcd3';
import { decodeController, decodePartition, decodeTopic } from './etcd-codec.js';
import type { EtcdKeys } from './etcd-keys.js';
import type { MetadataEvent } from './metadata-store.js';

/**
 * Turns the events of an etcd watch on the cluster's prefix into MetadataEvents, in commit order.
 * Pure. Each event's `revision` is the etcd revision of the transaction that made it; one
 * transaction gives at most one `brokers-changed` (a lease expiry deletes a broker key and the
 * controller key at one revision). Deleting a topic deletes its partition keys in the same
 * transaction: only `topic-deleted` is reported. Writes of topic claims and producer ids are not
 * metadata anyone watches.
 */

/** One event of an etcd watch response, as etcd3 delivers it. */
export interface EtcdWatchEvent {
  readonly type: 'Put' | 'Delete';
  readonly kv: IKeyValue;
  /** The value before the change; the watch asks for it (deletes need the topic id). */
  readonly prev_kv?: IKeyValue;
}

/** The translated events, and the keys whose values could not be believed (to log). */
export interface TranslatedEvents {
  readonly events: MetadataEvent[];
  readonly problems: string[];
}

/** MetadataEvents for one watch response's events; see the top of this file. */
export function translateWatchEvents(keys: EtcdKeys, watchEvents: readonly EtcdWatchEvent[]): TranslatedEvents {
  const events: MetadataEvent[] = [];
  const problems: string[] = [];
  let brokersChangedAt: number | null = null;
  for (const watchEvent of watchEvents) {
    const revision = Number(watchEvent.kv.mod_revision);
    try {
      const event = translateOne(keys, watchEvent, revision);
      if (event === null) continue;
      if (event.kind === 'brokers-changed') {
        if (brokersChangedAt === revision) continue;
        brokersChangedAt = revision;
      }
      events.push(Object.freeze(event));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return { events, problems };
}

function translateOne(keys: EtcdKeys, { type, kv, prev_kv: previous }: EtcdWatchEvent, revision: number): MetadataEvent | null {
  const parsed = keys.parse(kv.key);
  switch (parsed.kind) {
    case 'broker':
      return { kind: 'brokers-changed', revision };
    case 'controller':
      return { kind: 'controller-changed', controllerId: type === 'Put' ? decodeController(kv.key, kv.value) : null, revision };
    case 'topic': {
      const stored = type === 'Put' ? kv : previous;
      if (stored === undefined) throw new Error(`etcd did not return the previous value of ${kv.key.toString()} (compacted?); its deletion is not reported`);
      const { topicId } = decodeTopic(stored.key, stored.value);
      return { kind: type === 'Put' ? 'topic-created' : 'topic-deleted', topic: parsed.topic, topicId, revision };
    }
    case 'partition': {
      if (type === 'Delete') return null;
      const { topicId } = decodePartition(kv.key, kv.value);
      return { kind: 'partition-changed', topic: parsed.topic, topicId, partition: parsed.partition, revision };
    }
    case 'topic-claim':
    case 'producer-id':
    case 'other':
      return null;
  }
}
