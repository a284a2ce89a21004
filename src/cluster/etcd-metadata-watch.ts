import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { SluiceError } from '../errors/sluice-error.js';
import { etcdFailure } from './etcd-errors.js';
import { translateWatchEvents, type EtcdWatchEvent } from './etcd-events.js';
import type { EtcdKeys } from './etcd-keys.js';
import type { MetadataEvent, MetadataListener } from './metadata-store.js';

/** Longest pause between attempts to restart a watch that etcd cancelled. */
const RESTART_BACKOFF_MS_MAX = 5_000;

/**
 * One etcd watch on the cluster's whole key prefix, shared by every listener of a store and
 * started by the first: etcd's changes become MetadataEvents (etcd-events.ts). A watch that
 * disconnects is resumed by etcd3 after the last event seen, so nothing is missed; one that etcd
 * cancels (its revision was compacted) is started again from now, with an error logged, since
 * changes in between are then not reported.
 */
export class EtcdMetadataWatch {
  private readonly listeners = new Set<{ readonly listener: MetadataListener }>();
  private watcher: Promise<Watcher> | null = null;
  private closed = false;

  constructor(private readonly client: Etcd3, private readonly keys: EtcdKeys, private readonly startTimeoutMs: number, private readonly logger: Logger) {}

  /** Calls `listener` with every change from now on (once the watch is established); returns its unsubscribe. */
  async subscribe(listener: MetadataListener): Promise<() => void> {
    const starting = (this.watcher ??= this.start());
    try {
      await starting;
    } catch (error) {
      if (this.watcher === starting) this.watcher = null;
      throw error;
    }
    const subscription = { listener };
    this.listeners.add(subscription);
    return () => { this.listeners.delete(subscription); };
  }

  /** Forgets every listener and cancels the watch. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    const watcher = this.watcher;
    this.watcher = null;
    // Not awaited: with etcd unreachable a cancel waits for the stream to return; closing the client ends it anyway.
    if (watcher !== null) void watcher.then((w) => w.cancel(), () => undefined).catch(() => undefined);
  }

  // Established before it resolves.
  private async start(): Promise<Watcher> {
    const watcher = this.client.watch().prefix(this.keys.root).withPreviousKV().watcher();
    watcher.on('data', (response) => this.dispatch(watcher, response.events as unknown as EtcdWatchEvent[]));
    watcher.on('disconnected', (error) => this.logger.warn({ err: error }, 'metadata watch disconnected; etcd3 resumes it from the last revision seen'));
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.once('connected', () => resolve());
        watcher.once('error', (error) => reject(etcdFailure('starting the metadata watch', error)));
        timer = setTimeout(() => reject(new SluiceError('REQUEST_TIMED_OUT', `etcd did not start the metadata watch within ${this.startTimeoutMs} ms`)), this.startTimeoutMs);
      });
    } catch (error) {
      void watcher.cancel().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    watcher.on('error', (error) => {
      // etcd cancelled the watch (its start revision was compacted): changes may have been missed.
      this.logger.error({ err: error }, 'metadata watch cancelled by etcd; watching again from now, changes in between are not reported');
      void this.restart();
    });
    return watcher;
  }

  private async restart(): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      const restarting = this.start();
      this.watcher = restarting;
      try {
        await restarting;
        return;
      } catch (error) {
        this.logger.warn({ err: error, attempt }, 'restarting the metadata watch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(RESTART_BACKOFF_MS_MAX, 100 * 2 ** Math.min(attempt, 10))));
      }
    }
  }

  private dispatch(watcher: Watcher, watchEvents: readonly EtcdWatchEvent[]): void {
    // etcd3 resumes a broken watch from the response's header revision + 1; a response of a
    // catching-up watch may carry a header revision past its last event, so resume after the
    // last event instead and miss nothing.
    const last = watchEvents.at(-1);
    if (last !== undefined) watcher.request.start_revision = Number(last.kv.mod_revision) + 1;
    const { events, problems } = translateWatchEvents(this.keys, watchEvents);
    for (const problem of problems) this.logger.error({ problem }, 'a metadata change could not be read; it is not reported');
    for (const event of events) this.emit(event);
  }

  // A throwing listener is a bug of its own; it is rethrown outside the store so that the change stands.
  private emit(event: MetadataEvent): void {
    for (const { listener } of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }
}
