import { performance } from 'node:perf_hooks';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { encodeBroker, encodeController } from './etcd-codec.js';
import { etcdCall } from './etcd-errors.js';
import type { EtcdKeys } from './etcd-keys.js';
import type { BrokerInfo, ControllerCallbacks } from './metadata-store.js';

/**
 * This broker's session with etcd: one lease, kept alive, under which its broker key and (while
 * it is controller) the controller key live, so that both vanish when the broker stops renewing.
 *
 * Lease loss. etcd3 reports a lease lost when etcd answers a keepalive with TTL 0 or after two
 * TTLs without an answer; we also give it up ourselves once a whole TTL passes without a renewal
 * (a process resumed after SIGSTOP notices this on its first timer tick, before it handles any
 * I/O). Either way: stop acting as controller at once (`resigned`), revoke the old lease if etcd
 * still has it, grant a new one, write the broker key again and campaign again, retrying until
 * it works or the store closes.
 *
 * Election. Not etcd3's Election (it keeps a lease per campaign and a queue of candidate keys),
 * but Kafka's ZooKeeper scheme on etcd: the controller key is created, under the candidate's
 * lease, by a transaction guarded by "the key does not exist"; etcd serialises transactions, so
 * at most one broker holds it. The others watch for its deletion from the revision of their
 * failed attempt (so none is missed) and try again.
 */

/** What a session is built from. */
export interface EtcdSessionOptions {
  readonly client: Etcd3;
  readonly keys: EtcdKeys;
  /** The lease TTL, whole seconds (etcd's unit), at least 1. */
  readonly leaseTtlS: number;
  readonly logger: Logger;
}

interface Campaign {
  readonly brokerId: number;
  readonly callbacks: ControllerCallbacks;
  elected: boolean;
  /** The one loop currently campaigning; an older loop that sees another here stops. */
  runner: object | null;
  /** Wakes a campaign waiting for the controller key to go (lease lost, store closing). */
  stopWaiting: (() => void) | null;
}

/** Delay between attempts to re-establish a lost session or to campaign after an etcd error. */
const RETRY_DELAY_MS_MIN = 100;
/** Attempts to write the broker key when it changes under us between two reads. */
const REGISTER_ATTEMPTS_MAX = 3;
/** Beyond a foreign lease's TTL, how long registration waits for it to expire (etcd expires leases up to ~1 s late). */
const FOREIGN_LEASE_MARGIN_MS = 1_500;
/** How often registration looks again at a broker key held under another lease. */
const FOREIGN_LEASE_POLL_MS = 200;

/** One broker's lease, registration and controller campaign; see the top of this file. */
export class EtcdSession {
  private lease: Lease | null = null;
  private leaseId: string | null = null;
  private renewedAtMs = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private registration: BrokerInfo | null = null;
  private campaign: Campaign | null = null;
  private closed = false;
  // Lease grants and registrations run one at a time, in call order.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EtcdSessionOptions) {
    assert(Number.isSafeInteger(options.leaseTtlS) && options.leaseTtlS >= 1, 'lease TTL is a whole number of seconds, at least 1');
  }

  /** Writes this broker's key under the lease; INVALID_REQUEST when another live broker holds the id. */
  async register(info: BrokerInfo): Promise<void> {
    assert(!this.closed, 'session is open');
    if (this.registration !== null && this.registration.brokerId !== info.brokerId) {
      throw new SluiceError('INVALID_REQUEST', `this store registered broker ${this.registration.brokerId}, not ${info.brokerId}`);
    }
    return this.serially(async () => {
      const leaseId = await this.ensureLease();
      await this.putBroker(info, leaseId);
      this.registration = Object.freeze({ ...info });
      this.options.logger.info({ brokerId: info.brokerId, leaseId }, 'registered in etcd');
    });
  }

  /** Enters the election in the background; the broker must have registered (its lease is the candidate's). */
  campaignForController(brokerId: number, callbacks: ControllerCallbacks): void {
    assert(!this.closed, 'session is open');
    assert(this.registration?.brokerId === brokerId, 'a broker registers before it campaigns');
    assert(this.campaign === null, 'a store campaigns once');
    const campaign: Campaign = { brokerId, callbacks, elected: false, runner: null, stopWaiting: null };
    this.campaign = campaign;
    void this.runCampaign(campaign);
  }

  /** Resigns, revokes the lease (its keys vanish at once), and stops renewing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endControllerRole('the store is closing');
    this.campaign = null;
    await this.tail;
    const lease = this.lease;
    this.dropLease();
    if (lease !== null) {
      await lease.revoke().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'revoking the etcd lease failed; its keys go when it expires');
      });
    }
  }

  private async ensureLease(): Promise<string> {
    if (this.lease !== null) return this.leaseId!;
    const lease = this.options.client.lease(this.options.leaseTtlS);
    lease.on('lost', (error) => this.leaseLost(lease, `etcd reported it lost (${error.message})`));
    lease.on('keepaliveSucceeded', () => { if (this.lease === lease) this.renewedAtMs = performance.now(); });
    let leaseId: string;
    try {
      leaseId = await etcdCall('granting a lease', () => lease.grant());
    } catch (error) {
      lease.release();
      throw error;
    }
    if (this.closed) {
      await lease.revoke().catch(() => undefined);
      throw new SluiceError('REQUEST_TIMED_OUT', 'the metadata store closed');
    }
    this.lease = lease;
    this.leaseId = leaseId;
    this.renewedAtMs = performance.now();
    this.startWatchdog(lease);
    return leaseId;
  }

  // A lease not renewed for a whole TTL may have expired in etcd: act as if it had.
  private startWatchdog(lease: Lease): void {
    const ttlMs = this.options.leaseTtlS * 1000;
    this.watchdog = setInterval(() => {
      const silentMs = performance.now() - this.renewedAtMs;
      if (silentMs > ttlMs) this.leaseLost(lease, `no keepalive answered for ${Math.round(silentMs)} ms`);
    }, Math.max(50, Math.floor(ttlMs / 4)));
    this.watchdog.unref();
  }

  private dropLease(): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.lease?.release();
    this.lease = null;
    this.leaseId = null;
  }

  private leaseLost(lease: Lease, reason: string): void {
    if (this.closed || this.lease !== lease) return;
    const oldLeaseId = this.leaseId!;
    this.dropLease();
    this.options.logger.warn({ leaseId: oldLeaseId, reason }, 'etcd session lost; registering again under a new lease');
    this.endControllerRole('the etcd session was lost');
    void this.serially(() => this.recover(oldLeaseId));
  }

  private async recover(oldLeaseId: string): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        // If etcd still has the old lease (we gave up on it first), its keys must go before we write ours again.
        await this.options.client.leaseClient.leaseRevoke({ ID: oldLeaseId }).catch(() => undefined);
        const leaseId = await this.ensureLease();
        if (this.registration !== null) await this.putBroker(this.registration, leaseId);
        this.options.logger.info({ leaseId, attempt }, 'etcd session re-established');
        const campaign = this.campaign;
        if (campaign !== null && !campaign.elected) void this.runCampaign(campaign);
        return;
      } catch (error) {
        this.options.logger.warn({ err: error, attempt }, 're-establishing the etcd session failed; retrying');
        await this.pause(attempt);
      }
    }
  }

  private async putBroker(info: BrokerInfo, leaseId: string): Promise<void> {
    const key = this.options.keys.broker(info.brokerId);
    const put = { request_put: { key, value: encodeBroker(info), lease: leaseId } };
    // When another lease holds the id, it may be this broker's previous run (killed, restarted
    // within its session): wait until that lease has had a whole TTL to expire, as Kafka does
    // since KAFKA-7165. A live holder renews its lease and is still there after the wait.
    let foreignLeaseDeadlineMs: number | null = null;
    for (let attempt = 0; attempt < REGISTER_ATTEMPTS_MAX; attempt++) {
      const created = await etcdCall('registering the broker', () => this.options.client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [put],
        failure: [{ request_range: { key } }],
      }));
      if (created.succeeded) return;
      const holder = created.responses[0]?.response_range.kvs[0];
      if (holder === undefined) continue;
      if (holder.lease !== leaseId) {
        foreignLeaseDeadlineMs ??= performance.now() + (await this.grantedTtlMs(holder.lease)) + FOREIGN_LEASE_MARGIN_MS;
        if (performance.now() < foreignLeaseDeadlineMs) {
          if (attempt === 0) this.options.logger.warn({ brokerId: info.brokerId, holderLeaseId: holder.lease }, 'broker id held under another lease (an earlier run of this broker?); waiting for it to expire');
          attempt -= 1; // waiting for the deadline is bounded by time, not by attempts
          await new Promise((resolve) => setTimeout(resolve, FOREIGN_LEASE_POLL_MS));
          continue;
        }
        throw new SluiceError('INVALID_REQUEST', `broker id ${info.brokerId} is registered by another live broker (${holder.value.toString('utf8')})`);
      }
      // Ours already (registering again, say with a new port): overwrite it if it still is.
      const updated = await etcdCall('registering the broker', () => this.options.client.kv.txn({
        compare: [{ key, target: 'Lease', result: 'Equal', lease: leaseId }],
        success: [put],
      }));
      if (updated.succeeded) return;
    }
    throw new SluiceError('REQUEST_TIMED_OUT', `broker key of ${info.brokerId} kept changing while registering`);
  }

  // The TTL a lease was granted with (its holder may run with another session timeout); ours if etcd cannot say.
  private async grantedTtlMs(leaseId: string): Promise<number> {
    try {
      const answer = await this.options.client.leaseClient.leaseTimeToLive({ ID: leaseId });
      const granted = Number(answer.grantedTTL);
      if (Number.isFinite(granted) && granted > 0) return granted * 1000;
    } catch {
      // Fall through to our own TTL.
    }
    return this.options.leaseTtlS * 1000;
  }

  private async runCampaign(campaign: Campaign): Promise<void> {
    const runner = {};
    campaign.runner = runner;
    const current = (): boolean => this.campaign === campaign && campaign.runner === runner && !campaign.elected;
    for (let attempt = 1; current() && this.leaseId !== null; attempt++) {
      const leaseId = this.leaseId;
      try {
        const holder = await this.tryToBecomeController(campaign.brokerId, leaseId);
        if (!current() || this.leaseId !== leaseId) return; // lost meanwhile; recovery campaigns again
        if (holder.heldByUs) {
          campaign.elected = true;
          this.options.logger.info({ brokerId: campaign.brokerId }, 'elected controller');
          campaign.callbacks.elected();
          return;
        }
        await this.waitForControllerToGo(campaign, holder.nextRevision);
      } catch (error) {
        this.options.logger.warn({ err: error, attempt }, 'controller campaign failed; retrying');
        await this.pause(attempt);
      }
    }
  }

  private async tryToBecomeController(brokerId: number, leaseId: string): Promise<{ heldByUs: boolean; nextRevision: number }> {
    const key = this.options.keys.controller;
    const response = await etcdCall('campaigning for controller', () => this.options.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: encodeController(brokerId), lease: leaseId } }],
      failure: [{ request_range: { key } }],
    }));
    const holder: IKeyValue | undefined = response.responses[0]?.response_range?.kvs[0];
    const heldByUs = response.succeeded || holder?.lease === leaseId;
    return { heldByUs, nextRevision: Number(response.header.revision) + 1 };
  }

  // Returns when the controller key is deleted at or after `fromRevision`, or the campaign stops.
  private async waitForControllerToGo(campaign: Campaign, fromRevision: number): Promise<void> {
    const watcher: Watcher = this.options.client.watch()
      .key(this.options.keys.controller).startRevision(String(fromRevision)).only('delete').watcher();
    try {
      await new Promise<void>((resolve) => {
        campaign.stopWaiting = resolve;
        watcher.on('delete', () => resolve());
        // Cancelled by etcd (say, the revision was compacted): look again.
        watcher.on('error', () => resolve());
        if (this.campaign !== campaign || this.leaseId === null) resolve();
      });
    } finally {
      campaign.stopWaiting = null;
      // Not awaited: with etcd unreachable, a cancel waits for the stream to come back.
      void watcher.cancel().catch(() => undefined);
    }
  }

  private endControllerRole(reason: string): void {
    const campaign = this.campaign;
    if (campaign === null) return;
    campaign.stopWaiting?.();
    if (!campaign.elected) return;
    campaign.elected = false;
    this.options.logger.warn({ brokerId: campaign.brokerId, reason }, 'no longer controller');
    campaign.callbacks.resigned();
  }

  private pause(attempt: number): Promise<void> {
    const delayMs = Math.min(this.options.leaseTtlS * 1000, RETRY_DELAY_MS_MIN * 2 ** Math.min(attempt, 10));
    return new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
