import { describe, expect, it } from 'vitest';
import type { IKeyValue } from 'etcd3';
import { encodeBroker, encodeController, encodePartition, encodeTopic } from '../../../src/cluster/etcd-codec.js';
import { translateWatchEvents, type EtcdWatchEvent } from '../../../src/cluster/etcd-events.js';
import { EtcdKeys, prefixRangeEnd } from '../../../src/cluster/etcd-keys.js';
import { DEFAULT_TOPIC_CONFIG } from '../../../src/cluster/metadata-store.js';

const keys = new EtcdKeys('/c');

function kv(key: Buffer, value: Buffer, modRevision: number, lease = '0'): IKeyValue {
  return { key, value, mod_revision: String(modRevision), create_revision: String(modRevision), version: '1', lease } as IKeyValue;
}

const TOPIC = encodeTopic({ topicId: 'id-1', createdAtMs: 1, config: DEFAULT_TOPIC_CONFIG, replicas: [[1], [2]] });

describe('etcd keys', () => {
  it('parse what they build, and nothing outside the prefix', () => {
    expect(keys.parse(keys.broker(12))).toEqual({ kind: 'broker', brokerId: 12 });
    expect(keys.parse(keys.partition('a.b', 10))).toEqual({ kind: 'partition', topic: 'a.b', partition: 10 });
    expect(keys.parse(keys.topic('x'))).toEqual({ kind: 'topic', topic: 'x' });
    expect(keys.parse(keys.controller)).toEqual({ kind: 'controller' });
    expect(keys.parse(Buffer.from('/cx/topics/x'))).toEqual({ kind: 'other' });
    expect(keys.parse(Buffer.from('/c/brokers/01'))).toEqual({ kind: 'other' });
    expect(keys.topicClaim('a.b').equals(keys.topicClaim('a_b'))).toBe(true);
  });

  it('end a prefix range just past every key starting with the prefix', () => {
    expect(prefixRangeEnd(Buffer.from('/c/')).toString()).toBe('/c0');
    expect(prefixRangeEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(keys.all.key.toString()).toBe('/c/');
  });
});

describe('watch event translation', () => {
  it('reports one brokers-changed per revision, controller changes, topic creation and deletion with their ids', () => {
    const events: EtcdWatchEvent[] = [
      { type: 'Put', kv: kv(keys.topic('t'), TOPIC, 5) },
      { type: 'Put', kv: kv(keys.topicClaim('t'), Buffer.from('t'), 5) },
      { type: 'Put', kv: kv(keys.partition('t', 1), encodePartition('id-1', { leaderId: 2, leaderEpoch: 1, replicas: [2], isr: [2] }), 6) },
      { type: 'Delete', kv: kv(keys.broker(1), Buffer.alloc(0), 7), prev_kv: kv(keys.broker(1), encodeBroker({ brokerId: 1, host: 'h', port: 1 }), 3) },
      { type: 'Delete', kv: kv(keys.broker(2), Buffer.alloc(0), 7) },
      { type: 'Delete', kv: kv(keys.controller, Buffer.alloc(0), 7) },
      { type: 'Put', kv: kv(keys.controller, encodeController(3), 8) },
      { type: 'Delete', kv: kv(keys.topic('t'), Buffer.alloc(0), 9), prev_kv: kv(keys.topic('t'), TOPIC, 5) },
      { type: 'Delete', kv: kv(keys.partition('t', 1), Buffer.alloc(0), 9) },
      { type: 'Put', kv: kv(keys.producerId, Buffer.alloc(0), 10) },
    ];
    expect(translateWatchEvents(keys, events)).toEqual({
      problems: [],
      events: [
        { kind: 'topic-created', topic: 't', topicId: 'id-1', revision: 5 },
        { kind: 'partition-changed', topic: 't', topicId: 'id-1', partition: 1, revision: 6 },
        { kind: 'brokers-changed', revision: 7 },
        { kind: 'controller-changed', controllerId: null, revision: 7 },
        { kind: 'controller-changed', controllerId: 3, revision: 8 },
        { kind: 'topic-deleted', topic: 't', topicId: 'id-1', revision: 9 },
      ],
    });
  });

  it('reports a value it cannot believe as a problem, not an event', () => {
    const { events, problems } = translateWatchEvents(keys, [{ type: 'Put', kv: kv(keys.topic('t'), Buffer.from('{"format":2}'), 4) }]);
    expect(events).toEqual([]);
    expect(problems[0]).toMatch(/format 2/);
  });
});
