import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/group-consumer.ts', import.meta.url));
const RECORDS = 6_000;
const PARTITIONS = 3;

let broker: CliProcess;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = await makeTempDir('sluice-group-resume-');
  cleanup = temp.cleanup;
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', temp.dir]);
  url = `ws://127.0.0.1:${(await broker.waitForLog('broker started')).port as number}`;
  const admin = new Admin({ url, webSocketFactory: nodeWebSocket });
  await admin.connect();
  await admin.createTopic('resume', PARTITIONS);
  admin.close();
  const producer = new Producer({ url, webSocketFactory: nodeWebSocket, acks: 1 });
  await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic: 'resume', value: `r${i}` })));
  await producer.close();
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** Runs the consumer fixture until `stopWhen` says so (then SIGKILL by PID) or it has printed everything. */
function runConsumer(stopWhen: (lines: readonly string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, url, 'resume', 'billing'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let partial = '';
    const timer = setTimeout(() => { process.kill(child.pid!, 'SIGKILL'); reject(new Error('consumer run timed out')); }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      if (child.exitCode === null && child.signalCode === null && stopWhen(lines)) process.kill(child.pid!, 'SIGKILL');
    });
    child.on('close', () => { clearTimeout(timer); resolve(lines); });
  });
}

describe('a consumer group member killed with SIGKILL', () => {
  it('resumes from its committed offsets with no gap; duplicates come only from the uncommitted tail', async () => {
    const first = await runConsumer((lines) => lines.length >= RECORDS / 3);
    expect(first.length).toBeGreaterThanOrEqual(RECORDS / 3);
    expect(first.length).toBeLessThan(RECORDS);
    const second = await runConsumer((lines) => new Set([...first, ...lines]).size >= RECORDS);

    const key = (line: string): string => line.split(' ').slice(0, 2).join(' ');
    const firstKeys = new Set(first.map(key));
    const secondKeys = new Set(second.map(key));
    const all = new Set([...firstKeys, ...secondKeys]);
    expect(all.size).toBe(RECORDS);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const offsets = [...all].filter((k) => k.startsWith(`${partition} `)).map((k) => Number(k.split(' ')[1])).sort((a, b) => a - b);
      expect(offsets).toEqual(offsets.map((_, i) => i)); // dense from 0: no gap
      // The second run starts where the group's commit left it, never past the first run's end.
      const firstMax = Math.max(-1, ...[...firstKeys].filter((k) => k.startsWith(`${partition} `)).map((k) => Number(k.split(' ')[1])));
      const secondMin = Math.min(Number.POSITIVE_INFINITY, ...[...secondKeys].filter((k) => k.startsWith(`${partition} `)).map((k) => Number(k.split(' ')[1])));
      if (Number.isFinite(secondMin)) expect(secondMin).toBeLessThanOrEqual(firstMax + 1);
    }
    const duplicates = [...secondKeys].filter((k) => firstKeys.has(k)).length;
    // It resumed from a commit, not from the beginning: only the tail after the last commit repeats.
    expect(duplicates).toBeLessThan(firstKeys.size);
    console.info(`group resume: first run ${firstKeys.size} records, second run ${secondKeys.size}, duplicates ${duplicates}`);
  });
});
