import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import {
  API_VERSION, ApiKey, CloseCode, FrameKind, PLANNED_API_KEYS, PROTOCOL_VERSION, RESPONSE_ENCODERS,
  decodeRequest, encodeErrorResponse, encodeFrame, isApiKey,
  type FrameHeader, type HandshakeRequest, type ResponseByApiKey,
} from '../protocol/index.js';
import type { ClientConnection, RequestRouter } from './client-connection.js';
import type { ResponseBudget } from './response-budget.js';
import { OK, type HandlerContext } from './handlers/handler-context.js';
import { handleOffsetCommit, handleOffsetFetch } from './handlers/offset-handlers.js';
import { handleProduce } from './handlers/produce-handler.js';
import { handleOffsetForLeaderEpoch } from './handlers/leader-epoch-handler.js';
import { handleFetch, handleListOffsets } from './handlers/read-handlers.js';
import { SubscriptionRegistry } from './handlers/subscribe-handlers.js';
import { handleCreateTopics, handleDeleteTopics, handleMetadata } from './handlers/topic-handlers.js';

/**
 * Turns request frames into response frames: checks the apiKey and apiVersion, decodes the body
 * (a malformed one becomes an INVALID_REQUEST response), calls the API's handler, encodes.
 */
export class BrokerRequestRouter implements RequestRouter {
  private readonly subscriptions = new SubscriptionRegistry();

  constructor(private readonly context: HandlerContext) {}

  async handle(connection: ClientConnection, header: FrameHeader, body: Uint8Array, budget: ResponseBudget): Promise<Uint8Array | null> {
    const response = await this.answer(connection, header, body, budget);
    // A response can outgrow its request (Metadata for many topics, CreateTopics with error
    // messages); a frame over maxFrameBytes would make a conforming client close with 1009.
    if (response !== null && response.length > this.context.config.maxFrameBytes) {
      throw new SluiceError('RESPONSE_TOO_LARGE', `the response would be ${response.length} bytes; maxFrameBytes is ${this.context.config.maxFrameBytes}: ask for fewer topics or partitions`);
    }
    return response;
  }

  private async answer(connection: ClientConnection, header: FrameHeader, body: Uint8Array, budget: ResponseBudget): Promise<Uint8Array | null> {
    const apiKey = header.apiKey;
    if (!isApiKey(apiKey)) throw new SluiceError('INVALID_REQUEST', `unknown apiKey ${apiKey}`);
    if (header.apiVersion !== API_VERSION) throw new SluiceError('UNSUPPORTED_VERSION', `apiVersion ${header.apiVersion} of apiKey ${apiKey}; this broker speaks ${API_VERSION}`);
    if (PLANNED_API_KEYS.includes(apiKey)) throw new SluiceError('INVALID_REQUEST', `apiKey ${apiKey} is planned but not served yet`);
    const decoded = decodeRequest(apiKey, body);
    const context = this.context;
    switch (decoded.apiKey) {
      case ApiKey.Handshake: return this.handshake(connection, header, decoded.request);
      case ApiKey.Metadata: return respond(header, ApiKey.Metadata, handleMetadata(context, decoded.request));
      case ApiKey.CreateTopics: return respond(header, ApiKey.CreateTopics, await handleCreateTopics(context, decoded.request));
      case ApiKey.DeleteTopics: return respond(header, ApiKey.DeleteTopics, await handleDeleteTopics(context, decoded.request));
      case ApiKey.Produce: {
        const response = await handleProduce(context, decoded.request);
        return response === null ? null : respond(header, ApiKey.Produce, response);
      }
      case ApiKey.Fetch: return respond(header, ApiKey.Fetch, await handleFetch(context, decoded.request, budget));
      case ApiKey.ListOffsets: return respond(header, ApiKey.ListOffsets, await handleListOffsets(context, decoded.request));
      case ApiKey.InitProducerId: {
        // Every call gets a fresh id at epoch 0: without transactional ids there is no earlier
        // instance to fence, and a fresh id can never collide with a previous life's sequences.
        const producerId = await context.allocateProducerId();
        assert(producerId <= BigInt(Number.MAX_SAFE_INTEGER), 'producer ids stay in the wire i64 range');
        return respond(header, ApiKey.InitProducerId, { ...OK, producerId: Number(producerId), producerEpoch: 0 });
      }
      case ApiKey.OffsetCommit: return respond(header, ApiKey.OffsetCommit, await handleOffsetCommit(context, decoded.request));
      case ApiKey.OffsetFetch: return respond(header, ApiKey.OffsetFetch, await handleOffsetFetch(context, decoded.request));
      case ApiKey.OffsetForLeaderEpoch: return respond(header, ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch(context, decoded.request));
      case ApiKey.Subscribe: return respond(header, ApiKey.Subscribe, this.subscriptions.subscribe(context, connection, decoded.request));
      case ApiKey.Credit: return respond(header, ApiKey.Credit, this.subscriptions.credit(connection, decoded.request));
      case ApiKey.Unsubscribe: return respond(header, ApiKey.Unsubscribe, this.subscriptions.unsubscribe(connection, decoded.request));
      default: throw new SluiceError('INVALID_REQUEST', `apiKey ${apiKey} is not served`);
    }
  }

  errorResponse(header: FrameHeader, error: SluiceError): Uint8Array {
    return encodeErrorResponse(header.apiKey, header.correlationId, error.errorName, error.message);
  }

  closed(connection: ClientConnection): void {
    this.subscriptions.connectionClosed(connection);
  }

  /** This broker no longer leads a partition: its push subscriptions end (NOT_LEADER_OR_FOLLOWER). */
  leadershipEnded(topic: string, partition: number): void {
    this.subscriptions.leadershipEnded(topic, partition);
  }

  // A client that speaks another protocol version is told so, then disconnected (4001).
  private handshake(connection: ClientConnection, header: FrameHeader, request: HandshakeRequest): Uint8Array | null {
    if (request.protocolVersion !== PROTOCOL_VERSION) {
      const error = new SluiceError('UNSUPPORTED_VERSION', `protocol version ${request.protocolVersion}; this broker speaks ${PROTOCOL_VERSION}`);
      connection.send(this.errorResponse(header, error));
      connection.close(CloseCode.unsupportedProtocolVersion, 'unsupported protocol version');
      return null;
    }
    connection.markHandshaken();
    const config = this.context.config;
    return respond(header, ApiKey.Handshake, {
      ...OK, protocolVersion: PROTOCOL_VERSION, brokerId: this.context.brokerId, maxFrameBytes: config.maxFrameBytes,
      maxInFlightRequestsPerConnection: config.maxInFlightRequestsPerConnection, creditBytesMax: config.creditBytesMax,
    });
  }
}

function respond<K extends ApiKey>(header: FrameHeader, apiKey: K, response: ResponseByApiKey[K]): Uint8Array {
  const encode = RESPONSE_ENCODERS[apiKey] as (value: ResponseByApiKey[K]) => Uint8Array;
  return encodeFrame({ kind: FrameKind.response, apiKey, apiVersion: API_VERSION, correlationId: header.correlationId }, encode(response));
}
