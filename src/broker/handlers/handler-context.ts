import type { Logger } from 'pino';
import type { BrokerConfig } from '../../config/broker-config.js';
import { ERROR_CODES, type ErrorName } from '../../errors/error-codes.js';
import type { GroupOffsetStore } from '../../group/group-offset-store.js';
import type { BrokerMetrics } from '../metrics.js';
import type { PartitionManager } from '../partition-manager.js';

/** What every request handler may use. */
export interface HandlerContext {
  readonly config: BrokerConfig;
  readonly brokerId: number;
  /** Where clients reach this broker (the bound port, once listening). */
  readonly advertised: () => { host: string; port: number };
  readonly partitions: PartitionManager;
  /** A new producer id for InitProducerId (never reused; from the metadata store). */
  readonly allocateProducerId: () => Promise<bigint>;
  /** Committed consumer offsets (the group coordinator). */
  readonly offsets: GroupOffsetStore;
  /** Creates `__consumer_offsets` if it does not exist yet (in a cluster, at the first group request). */
  readonly ensureOffsetsTopic: () => Promise<void>;
  /** Produce and fetch counters; absent where nobody scrapes (tests). */
  readonly metrics?: BrokerMetrics;
  readonly logger: Logger;
}

/** The wire code of an error name, or 0 for none. */
export function codeOf(errorName: ErrorName | null): number {
  return errorName === null ? 0 : ERROR_CODES[errorName].code;
}

/** A successful response header. */
export const OK = { headerOnly: false, errorCode: 0, errorMessage: null } as const;
