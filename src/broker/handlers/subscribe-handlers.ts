import { SluiceError } from '../../errors/sluice-error.js';
import {
  API_VERSION, ApiKey, FrameKind, encodeFrame, encodeSubscribePush,
  type CreditRequest, type CreditResponse, type SubscribeRequest, type SubscribeResponse, type UnsubscribeRequest, type UnsubscribeResponse,
} from '../../protocol/index.js';
import type { ClientConnection } from '../client-connection.js';
import { Subscription } from '../subscription.js';
import { OK, codeOf, type HandlerContext } from './handler-context.js';

// Frame header, push fields and the records length prefix.
const PUSH_OVERHEAD_BYTES = 64;

/**
 * The push subscriptions of every connection. A connection's subscriptions end with it, so a
 * client that vanishes leaves nothing behind.
 */
export class SubscriptionRegistry {
  private readonly byConnection = new Map<ClientConnection, Map<number, Subscription>>();
  private nextSubscriptionId = 1;

  /** Subscribe: validates the start offset, then starts pushing. */
  subscribe(context: HandlerContext, connection: ClientConnection, request: SubscribeRequest): SubscribeResponse {
    const { log } = context.partitions.leader(request.topic, request.partition);
    if (request.offset < log.logStartOffset || request.offset > log.logEndOffset) {
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `offset ${request.offset} is outside [${log.logStartOffset}, ${log.logEndOffset}]`);
    }
    const subscriptions = this.subscriptionsOf(connection);
    if (subscriptions.size >= context.config.maxSubscriptionsPerConnection) {
      throw new SluiceError('INVALID_REQUEST', `more than maxSubscriptionsPerConnection ${context.config.maxSubscriptionsPerConnection} subscriptions`);
    }
    const id = this.nextSubscriptionId++;
    // At most one largest batch's worth per push (maxFrameBytes exceeds batchBytesMax), so that a
    // consumer holding 2 x batchBytesMax of credit always has a second push on its way while it
    // decodes the first; pushes of all its credit at once left it idle a third of the time while
    // the broker read and sent the next one.
    const pushBytesMax = Math.min(context.config.batchBytesMax, context.config.maxFrameBytes - PUSH_OVERHEAD_BYTES);
    const subscription = new Subscription(id, request.topic, request.partition, log, request.offset, request.creditBytes, context.config.creditBytesMax, pushBytesMax, (fields) => {
      const body = encodeSubscribePush({ errorCode: codeOf(fields.errorName), highWatermark: fields.highWatermark, nextOffset: fields.nextOffset, records: fields.records });
      connection.send(encodeFrame({ kind: FrameKind.push, apiKey: ApiKey.Subscribe, apiVersion: API_VERSION, correlationId: id }, body));
      if (fields.errorName !== null) subscriptions.delete(id);
    });
    subscriptions.set(id, subscription);
    // Start after the response is on its way, so the client sees the id before the first push.
    queueMicrotask(() => subscription.start());
    return { ...OK, subscriptionId: id, highWatermark: log.highWatermark };
  }

  /** Credit: grants more bytes to a subscription of this connection. */
  credit(connection: ClientConnection, request: CreditRequest): CreditResponse {
    const subscription = this.find(connection, request.subscriptionId);
    return { ...OK, creditBytes: subscription.grant(request.creditBytes) };
  }

  /** Unsubscribe: ends a subscription of this connection. */
  unsubscribe(connection: ClientConnection, request: UnsubscribeRequest): UnsubscribeResponse {
    this.find(connection, request.subscriptionId).end();
    this.byConnection.get(connection)?.delete(request.subscriptionId);
    return { errorCode: 0, errorMessage: null };
  }

  /**
   * This broker stopped leading a partition: its subscriptions end with NOT_LEADER_OR_FOLLOWER,
   * so that their clients subscribe again at the new leader (from their next offset).
   */
  leadershipEnded(topic: string, partition: number): void {
    for (const subscriptions of this.byConnection.values()) {
      for (const subscription of [...subscriptions.values()]) {
        if (subscription.topic === topic && subscription.partition === partition) subscription.fail('NOT_LEADER_OR_FOLLOWER');
      }
    }
  }

  /** Ends every subscription of a closed connection. */
  connectionClosed(connection: ClientConnection): void {
    for (const subscription of this.byConnection.get(connection)?.values() ?? []) subscription.end();
    this.byConnection.delete(connection);
  }

  private subscriptionsOf(connection: ClientConnection): Map<number, Subscription> {
    let subscriptions = this.byConnection.get(connection);
    if (subscriptions === undefined) {
      subscriptions = new Map();
      this.byConnection.set(connection, subscriptions);
    }
    return subscriptions;
  }

  private find(connection: ClientConnection, subscriptionId: number): Subscription {
    const subscription = this.byConnection.get(connection)?.get(subscriptionId);
    if (subscription === undefined) throw new SluiceError('INVALID_REQUEST', `no subscription ${subscriptionId} on this connection`);
    return subscription;
  }
}
