import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { CompareResults } from '../../bench/compare/compare-results.js';
import { limitsView } from '../../bench/compare/limits-view.js';
import { comparePlan } from '../../bench/compare/plan.js';
import { formatMarkdownReport } from '../../bench/compare/report-markdown.js';
import { formatSvgReport } from '../../bench/compare/report-svg.js';
import { orderForRun, selectByName } from '../../bench/compare/systems/index.js';
import type { SystemUnderTest } from '../../bench/compare/system.js';
import { evaluateTargets } from '../../bench/compare/targets.js';
import type { LimitFigures } from '../../bench/limits/limit-figures.js';
import { endToEnd, latency, system, throughput } from './bench-compare-fixtures.js';

const limits: LimitFigures = {
  syncedAppends: [
    { writeBytes: 4_096, appendsPerSecond: 2_000, megabytesPerSecond: 8 },
    { writeBytes: 1_048_576, appendsPerSecond: 200, megabytesPerSecond: 200 },
  ],
  fdatasyncLatencyMs: { p50: 0.5, p99: 1, p999: 2 },
  fdatasyncSamples: 2_000,
  webSocket: [
    { frameBytes: 128, direction: 'client-to-server', messagesPerSecond: 400_000, megabytesPerSecond: 51 },
    { frameBytes: 65_536, direction: 'client-to-server', messagesPerSecond: 8_000, megabytesPerSecond: 500 },
    { frameBytes: 65_536, direction: 'server-to-client', messagesPerSecond: 10_000, megabytesPerSecond: 650 },
  ],
  crc32c: { implementation: 'native', megabytesPerSecond: 5_000 },
  bufferutil: true,
};

function results(systems: CompareResults['systems']): CompareResults {
  return {
    startedIso: '2026-11-23T12:00:00.000Z', finishedIso: '2026-11-23T12:30:00.000Z',
    machine: {
      dateIso: '2026-11-23T12:00:00.000Z', platform: 'linux', osType: 'Linux', osRelease: '6', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2,
      memoryBytes: 2 ** 34, nodeVersion: 'v20', v8Version: '11', dataDir: { path: tmpdir(), statfsType: '0xef53', freeBytes: 1, totalBytes: 2, mount: null },
    },
    plan: comparePlan(false, 3), limits, limitsError: null, notes: ['Redis: redis-server not found; skipped'], systems,
  };
}

describe('the issue 7 targets', () => {
  const all = [
    system('Sluice', { produce: throughput([1_200_000, 1_100_000, 1_300_000]), consume: throughput([2_500_000]), sequential: latency([0.9]), endToEnd: [endToEnd(5_000, [2.5])], rssPeakBytes: 150e6 }),
    system('NATS JetStream R1', { produce: throughput([500_000]), consume: throughput([900_000]) }),
    system('Redis Streams (appendfsync always)', { produce: throughput([100_000]), consume: throughput([1_000_000]) }),
    system('NATS JetStream R3', { replicas: 3, produce: throughput([200_000]) }),
    system('Sluice dev-cluster RF1 acks=1', { produce: throughput([1_000_000]), rssPeakBytes: 310e6 }),
    system('Sluice dev-cluster RF3 acks=all', { replicas: 3, produce: throughput([390_000]) }),
  ];
  const verdicts = new Map(evaluateTargets(all).map((verdict) => [verdict.target, verdict]));

  it('judges Sluice by its medians against absolute figures', () => {
    expect(verdicts.get('produce ≥ 1,000,000 records/s')?.met).toBe(true);
    expect(verdicts.get('sequential produce p99 ≤ 1 ms')?.met).toBe(true);
    expect(verdicts.get('consume ≥ 2,000,000 records/s')?.met).toBe(true);
    expect(verdicts.get('end-to-end p99 ≤ 3 ms at 5,000/s')?.met).toBe(true);
  });

  it('compares with the fastest single-replica peer and with Redis always', () => {
    expect(verdicts.get('produce ≥ 2× the fastest peer')).toMatchObject({ met: true, figure: expect.stringContaining('2.40× NATS JetStream R1') });
    expect(verdicts.get('produce ≥ 8× Redis (appendfsync always)')?.met).toBe(true);
    expect(verdicts.get('consume ≥ 3× the fastest peer')).toMatchObject({ met: false, figure: expect.stringContaining('Redis Streams') });
  });

  it('compares RF3 acks=all with the RF1 cluster and with NATS R3', () => {
    expect(verdicts.get('RF3 acks=all produce ≥ 40% of RF1')?.met).toBe(false);
    expect(verdicts.get('RF3 acks=all produce above NATS R3')?.met).toBe(true);
  });

  it('holds every Sluice broker to the RSS ceiling', () => {
    expect(verdicts.get('broker RSS < 300 MB (peak, any Sluice broker)')).toMatchObject({ met: false, figure: '310 MB' });
  });

  it('is neither met nor missed when the figures to compare are missing', () => {
    const alone = new Map(evaluateTargets([system('Sluice')]).map((verdict) => [verdict.target, verdict]));
    expect(alone.get('produce ≥ 2× the fastest peer')?.met).toBeNull();
    expect(alone.get('RF3 acks=all produce above NATS R3')).toMatchObject({ met: null, figure: 'no RF3 row: not measured' });
  });
});

describe('the markdown report', () => {
  it('has a row per system with median (min–max), and footnotes for a start or run that failed', () => {
    const failedRun = { ...throughput([50_000, 70_000]), failures: [{ run: 3, error: 'timed out after 900 s' }] };
    const text = formatMarkdownReport(results([
      system('Sluice', { produce: throughput([1_200_000, 1_100_000, 1_300_000]), parallel: failedRun }),
      system('RabbitMQ streams', { startError: 'rabbitmq-server exited with 1', produce: null, consume: null, sequential: null, endToEnd: [], parallel: null, ackCheck: null }),
    ]), 'compare-latest.svg');
    expect(text).toContain('| Sluice | 1 | yes: 1,010 syncs / 1,000 acks (strace) | 1.20M (1.10M–1.30M) |');
    expect(text).toContain('60.0k (50.0k–70.0k) [1]');
    expect(text).toContain('- [1] Sluice parallel producers (8 partitions): run 3: timed out after 900 s');
    expect(text).toContain('| RabbitMQ streams | 1 | start failed [2] | — |');
    expect(text).toContain('- [2] RabbitMQ streams did not start: rabbitmq-server exited with 1');
    expect(text).toContain('![throughput and latency per system](compare-latest.svg)');
    expect(text).toContain('- Redis: redis-server not found; skipped');
    expect(text).toContain('## Sluice against the machine\'s limits');
  });
});

describe('Sluice against the limits', () => {
  it('divides throughput by the best limit and the latency floor by the figure', () => {
    const rows = limitsView(system('Sluice', { produce: throughput([1_000_000]), consume: throughput([2_000_000]), sequential: latency([1]) }), limits, 100);
    expect(rows.map((row) => [row.figure, row.limitLabel, row.share])).toEqual([
      ['produce MB/s', 'fdatasync\'d appends of 1048576 B', 0.5],
      ['produce records/s', 'WebSocket client→server, 128 B frames', 2.5],
      ['produce MB/s', 'WebSocket client→server, 65536 B frames', 0.2],
      ['consume MB/s', 'WebSocket server→client, 65536 B frames', 200 / 650],
      ['sequential produce p50 ms', 'fdatasync p50 (floor of one acknowledged record)', 1],
    ]);
  });
});

describe('the SVG chart', () => {
  it('labels every system and escapes names, and marks a missing figure n/a instead of drawing zero', () => {
    const svg = formatSvgReport(results([system('Sluice'), system('Redis <always> & co', { parallel: null })]));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('>Redis &lt;always&gt; &amp; co</text>');
    expect(svg).not.toContain('<always>');
    expect(svg).toContain('>n/a</text>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('leaves out systems that did not start', () => {
    const svg = formatSvgReport(results([system('Sluice'), system('Broken', { startError: 'no binary' })]));
    expect(svg).not.toContain('>Broken</text>');
  });
});

describe('the registry\'s run order and --only', () => {
  const named = (name: string, replicas: number): SystemUnderTest => ({ name, replicas } as SystemUnderTest);
  const systems = [named('Sluice', 1), named('NATS R1', 1), named('NATS R3', 3), named('Redis', 1), named('Sluice dev-cluster RF1 acks=1', 1), named('Sluice dev-cluster RF3 acks=all', 3)];

  it('runs single-replica systems first, registry order otherwise', () => {
    expect(orderForRun(systems).map((entry) => entry.name)).toEqual(['Sluice', 'NATS R1', 'Redis', 'Sluice dev-cluster RF1 acks=1', 'NATS R3', 'Sluice dev-cluster RF3 acks=all']);
  });

  it('selects an exact name alone, else every name containing the text', () => {
    expect(selectByName(systems, 'sluice').map((entry) => entry.name)).toEqual(['Sluice']);
    expect(selectByName(systems, 'nats').map((entry) => entry.name)).toEqual(['NATS R1', 'NATS R3']);
  });
});
