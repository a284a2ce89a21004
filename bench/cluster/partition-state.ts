import type { Etcd3 } from 'etcd3';
import type { Admin, TopicDescription } from '../../src/client/index.js';
import { BENCH_ETCD_PREFIX } from './cluster-processes.js';

/** Pause between two looks at the metadata while waiting for it to change. */
const POLL_INTERVAL_MS = 100;

/** Waits (bounded) until every partition of `topic` has a leader and an ISR of `isrSize`. */
export async function waitForIsr(admin: Admin, topic: string, isrSize: number, timeoutMs: number): Promise<TopicDescription> {
  const deadlineMs = Date.now() + timeoutMs;
  let last: TopicDescription | null = null;
  let lastError: unknown = null;
  while (Date.now() < deadlineMs) {
    try {
      const [described] = await admin.describeTopics([topic]);
      last = described ?? null;
      const partitions = last?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leaderId >= 0 && p.error === null && p.isr.length === isrSize)) return last!;
    } catch (error) {
      // A broker that just died or is not ready yet: ask again.
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`${topic}: not every partition had a leader and ${isrSize} in-sync replicas within ${timeoutMs} ms; last seen ${JSON.stringify(last?.partitions)}${lastError === null ? '' : `, last error ${String(lastError)}`}`);
}

/** The controller's broker id, read from its etcd key; null while there is none. */
export async function controllerIdOf(etcd: Etcd3): Promise<number | null> {
  const value = await etcd.get(`${BENCH_ETCD_PREFIX}/controller`).string();
  if (value === null) return null;
  const parsed = JSON.parse(value) as { brokerId?: unknown };
  return typeof parsed.brokerId === 'number' ? parsed.brokerId : null;
}

/**
 * Resolves with the wall-clock time (Date.now()) at which the bench saw the broker's registration
 * deleted: its lease expired. The watch is in place when the returned promise resolves.
 */
export async function watchRegistrationGone(etcd: Etcd3, brokerId: number): Promise<{ gone: Promise<number>; cancel: () => Promise<void> }> {
  const watcher = await etcd.watch().key(`${BENCH_ETCD_PREFIX}/brokers/${brokerId}`).only('delete').create();
  const gone = new Promise<number>((resolve) => watcher.once('delete', () => resolve(Date.now())));
  return { gone, cancel: () => watcher.cancel() };
}
