import { ApiKey } from '../protocol/index.js';
import type { ProducerInfo } from '../record/index.js';
import type { Cluster } from './cluster.js';
import { expectOk, isNotServed } from './connection.js';
import type { ClientLogger } from './logger.js';

const SEQUENCE_MODULUS = 2 ** 31;

/**
 * An idempotent producer's identity: the producer id and epoch InitProducerId granted, and the
 * next sequence number of each partition under it (Kafka's TransactionManager, without
 * transactions). Until it is settled the producer sends nothing; once `stale` (a batch failed for
 * good, or the broker reported a sequence gap or an unknown producer), the next send first asks
 * for a fresh id, and the partitions' sequences start again at 0 under it.
 */
export class ProducerIdentity {
  private granted: { readonly producerId: bigint; readonly producerEpoch: number } | null = null;
  private readonly sequences = new Map<string, number>();
  private load: Promise<void> | null = null;
  private decided: boolean;
  private activeValue = false;
  private staleValue = false;
  private fallbackReasonValue: string | null = null;

  /** `wanted`: idempotence was asked for; with acks 0 it cannot be had (the broker answers nothing). */
  constructor(wanted: boolean, acks: 0 | 1 | -1, private readonly cluster: Cluster, private readonly logger: ClientLogger) {
    this.decided = !wanted || acks === 0;
    if (wanted && acks === 0) this.fallbackReasonValue = 'idempotence needs acks 1 or all; acks is 0';
  }

  /** True once the broker granted a producer id and batches carry sequences. */
  get active(): boolean {
    return this.activeValue && this.granted !== null;
  }

  /** Why idempotence is off although it was asked for (null when it is on, or was not asked for). */
  get fallbackReason(): string | null {
    return this.fallbackReasonValue;
  }

  get producerId(): bigint | null {
    return this.granted?.producerId ?? null;
  }

  /** Sends must wait for `ensure()`: nothing is settled yet, or a fresh id is due. */
  get pending(): boolean {
    return !this.decided || this.staleValue;
  }

  /** A fresh producer id is due before the next batch is stamped. */
  markStale(): void {
    this.staleValue = true;
  }

  /** Settles the identity (single-flight): asks any broker for a producer id when one is due. */
  ensure(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    this.load ??= this.initProducerId().finally(() => {
      this.load = null;
    });
    return this.load;
  }

  /** The identity and first sequence for the next `records` records of a partition, or null without idempotence. */
  stamp(partitionKey: string, records: number): ProducerInfo | null {
    if (!this.active) return null;
    const granted = this.granted!;
    const baseSequence = this.sequences.get(partitionKey) ?? 0;
    this.sequences.set(partitionKey, (baseSequence + records) % SEQUENCE_MODULUS);
    return { producerId: granted.producerId, producerEpoch: granted.producerEpoch, baseSequence };
  }

  // Any broker grants producer ids (they are unique cluster-wide).
  private async initProducerId(): Promise<void> {
    const connection = await this.cluster.anyConnection();
    const response = await connection.request(ApiKey.InitProducerId, {});
    if (isNotServed(response)) {
      this.decided = true;
      this.staleValue = false;
      this.activeValue = false;
      this.fallbackReasonValue = `the broker does not serve InitProducerId (${response.errorMessage ?? 'INVALID_REQUEST'}): running without idempotence`;
      this.logger.warn({ url: connection.url }, this.fallbackReasonValue);
      return;
    }
    const granted = expectOk(response);
    this.granted = { producerId: BigInt(granted.producerId), producerEpoch: granted.producerEpoch };
    this.sequences.clear();
    this.decided = true;
    this.staleValue = false;
    this.activeValue = true;
    this.logger.debug({ producerId: String(granted.producerId) }, 'idempotent producer id granted');
  }
}
