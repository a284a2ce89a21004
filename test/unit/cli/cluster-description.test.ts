import { describe, expect, it } from 'vitest';
import { clusterDescriptionText, describeClusterFrom, type ReplicaReport } from '../../../src/cli/cluster-description.js';
import { httpBaseOf, httpBaseOfBroker } from '../../../src/cli/broker-http.js';
import type { MetadataResponse } from '../../../src/protocol/index.js';

const METADATA: MetadataResponse = {
  headerOnly: false, errorCode: 0, errorMessage: null,
  brokers: [{ brokerId: 2, host: '127.0.0.1', port: 9102 }, { brokerId: 1, host: '127.0.0.1', port: 9101 }],
  controllerId: 2,
  topics: [
    {
      errorCode: 0, name: 'orders', partitions: [
        { errorCode: 0, partition: 1, leaderId: 2, leaderEpoch: 4, replicas: [2, 1], isr: [2] },
        { errorCode: 0, partition: 0, leaderId: 1, leaderEpoch: 0, replicas: [1, 2], isr: [1, 2] },
      ],
    },
    { errorCode: 3, name: 'gone', partitions: [] },
    { errorCode: 0, name: 'audit', partitions: [{ errorCode: 5, partition: 0, leaderId: -1, leaderEpoch: 1, replicas: [1], isr: [] }] },
  ],
};

const REPORTS = new Map<number, ReplicaReport>([
  [1, { replicas: [{ topic: 'orders', partition: 0, highWatermark: 7, logEndOffset: 7 }, { topic: 'orders', partition: 1, highWatermark: 3, logEndOffset: 5 }, { topic: 'audit', partition: 0, highWatermark: 0, logEndOffset: 2 }] }],
  // Broker 2 did not answer: no report.
]);

describe('cluster describe', () => {
  it('joins Metadata with each broker\'s replica report, in replica order, null where a broker did not answer', () => {
    expect(describeClusterFrom(METADATA, REPORTS)).toEqual({
      brokers: [{ brokerId: 1, host: '127.0.0.1', port: 9101 }, { brokerId: 2, host: '127.0.0.1', port: 9102 }],
      controllerId: 2,
      topics: [
        { name: 'audit', partitions: [{ partition: 0, leader: null, leaderEpoch: 1, replicas: [1], isr: [], replicasState: [{ brokerId: 1, highWatermark: 0, logEndOffset: 2 }] }] },
        {
          name: 'orders', partitions: [
            {
              partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2], isr: [1, 2],
              replicasState: [{ brokerId: 1, highWatermark: 7, logEndOffset: 7 }, { brokerId: 2, highWatermark: null, logEndOffset: null }],
            },
            {
              partition: 1, leader: 2, leaderEpoch: 4, replicas: [2, 1], isr: [2],
              replicasState: [{ brokerId: 2, highWatermark: null, logEndOffset: null }, { brokerId: 1, highWatermark: 3, logEndOffset: 5 }],
            },
          ],
        },
      ],
    });
  });

  it('shows no controller as null, whether Metadata says -1 or leaves it out', () => {
    const { controllerId: _, ...withoutController } = METADATA;
    expect(describeClusterFrom(withoutController, new Map()).controllerId).toBeNull();
    expect(describeClusterFrom({ ...METADATA, controllerId: -1 }, new Map()).controllerId).toBeNull();
  });

  it('prints aligned tables: brokers with the controller marked, then one row per partition', () => {
    expect(clusterDescriptionText(describeClusterFrom(METADATA, REPORTS))).toEqual([
      'controller 2',
      '',
      'broker  host       port',
      '1       127.0.0.1  9101',
      '2       127.0.0.1  9102  controller',
      '',
      'topic   partition  leader  epoch  replicas  isr  hw/leo per replica',
      'audit   0          none    1      1              1:0/2',
      'orders  0          1       0      1,2       1,2  1:7/7 2:?/?',
      'orders  1          2       4      2,1       2    2:?/? 1:3/5',
    ]);
  });

  it('says so when there are no topics and no controller', () => {
    const lines = clusterDescriptionText({ brokers: [], controllerId: null, topics: [] });
    expect(lines[0]).toBe('controller none');
    expect(lines.at(-1)).toBe('no topics');
  });

  it('finds a broker\'s HTTP API on the port of its WebSocket', () => {
    expect(httpBaseOf('ws://127.0.0.1:9092')).toBe('http://127.0.0.1:9092');
    expect(httpBaseOf('wss://broker.example:443/ws')).toBe('https://broker.example');
    expect(() => httpBaseOf('http://127.0.0.1:9092')).toThrow(/not a ws/);
    expect(httpBaseOfBroker({ host: '::1', port: 9092 })).toBe('http://[::1]:9092');
  });
});
