import { ApiKey } from './api-keys.js';
import * as createTopics from './messages/create-topics.js';
import * as credit from './messages/credit.js';
import * as deleteTopics from './messages/delete-topics.js';
import * as fetchMessages from './messages/fetch.js';
import * as handshake from './messages/handshake.js';
import * as initProducerId from './messages/init-producer-id.js';
import * as listOffsets from './messages/list-offsets.js';
import * as metadata from './messages/metadata.js';
import * as offsetCommit from './messages/offset-commit.js';
import * as offsetFetch from './messages/offset-fetch.js';
import * as offsetForLeaderEpoch from './messages/offset-for-leader-epoch.js';
import * as produce from './messages/produce.js';
import type { OrHeaderOnly } from './messages/response-header.js';
import * as subscribe from './messages/subscribe.js';
import * as unsubscribe from './messages/unsubscribe.js';

/**
 * The body codecs of every API, keyed by apiKey (apiVersion 2), so that a broker or client can
 * go from a frame header to typed fields without a switch of its own.
 */

/** The request type of each apiKey. */
export interface RequestByApiKey {
  [ApiKey.Handshake]: handshake.HandshakeRequest;
  [ApiKey.Metadata]: metadata.MetadataRequest;
  [ApiKey.CreateTopics]: createTopics.CreateTopicsRequest;
  [ApiKey.DeleteTopics]: deleteTopics.DeleteTopicsRequest;
  [ApiKey.Produce]: produce.ProduceRequest;
  [ApiKey.Fetch]: fetchMessages.FetchRequest;
  [ApiKey.Subscribe]: subscribe.SubscribeRequest;
  [ApiKey.Credit]: credit.CreditRequest;
  [ApiKey.Unsubscribe]: unsubscribe.UnsubscribeRequest;
  [ApiKey.ListOffsets]: listOffsets.ListOffsetsRequest;
  [ApiKey.InitProducerId]: initProducerId.InitProducerIdRequest;
  [ApiKey.OffsetCommit]: offsetCommit.OffsetCommitRequest;
  [ApiKey.OffsetFetch]: offsetFetch.OffsetFetchRequest;
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch.OffsetForLeaderEpochRequest;
}

/** The response type of each apiKey, in either of its forms (full or header-only). */
export interface ResponseByApiKey {
  [ApiKey.Handshake]: OrHeaderOnly<handshake.HandshakeResponse>;
  [ApiKey.Metadata]: OrHeaderOnly<metadata.MetadataResponse>;
  [ApiKey.CreateTopics]: OrHeaderOnly<createTopics.CreateTopicsResponse>;
  [ApiKey.DeleteTopics]: OrHeaderOnly<deleteTopics.DeleteTopicsResponse>;
  [ApiKey.Produce]: OrHeaderOnly<produce.ProduceResponse>;
  [ApiKey.Fetch]: OrHeaderOnly<fetchMessages.FetchResponse>;
  [ApiKey.Subscribe]: OrHeaderOnly<subscribe.SubscribeResponse>;
  [ApiKey.Credit]: OrHeaderOnly<credit.CreditResponse>;
  [ApiKey.Unsubscribe]: unsubscribe.UnsubscribeResponse;
  [ApiKey.ListOffsets]: OrHeaderOnly<listOffsets.ListOffsetsResponse>;
  [ApiKey.InitProducerId]: OrHeaderOnly<initProducerId.InitProducerIdResponse>;
  [ApiKey.OffsetCommit]: OrHeaderOnly<offsetCommit.OffsetCommitResponse>;
  [ApiKey.OffsetFetch]: OrHeaderOnly<offsetFetch.OffsetFetchResponse>;
  [ApiKey.OffsetForLeaderEpoch]: OrHeaderOnly<offsetForLeaderEpoch.OffsetForLeaderEpochResponse>;
}

export type RequestDecoders = { readonly [K in ApiKey]: (body: Uint8Array) => RequestByApiKey[K] };
export type RequestEncoders = { readonly [K in ApiKey]: (request: RequestByApiKey[K]) => Uint8Array };
export type ResponseDecoders = { readonly [K in ApiKey]: (body: Uint8Array) => ResponseByApiKey[K] };
export type ResponseEncoders = { readonly [K in ApiKey]: (response: ResponseByApiKey[K]) => Uint8Array };

export const REQUEST_DECODERS: RequestDecoders = Object.freeze({
  [ApiKey.Handshake]: handshake.decodeHandshakeRequest,
  [ApiKey.Metadata]: metadata.decodeMetadataRequest,
  [ApiKey.CreateTopics]: createTopics.decodeCreateTopicsRequest,
  [ApiKey.DeleteTopics]: deleteTopics.decodeDeleteTopicsRequest,
  [ApiKey.Produce]: produce.decodeProduceRequest,
  [ApiKey.Fetch]: fetchMessages.decodeFetchRequest,
  [ApiKey.Subscribe]: subscribe.decodeSubscribeRequest,
  [ApiKey.Credit]: credit.decodeCreditRequest,
  [ApiKey.Unsubscribe]: unsubscribe.decodeUnsubscribeRequest,
  [ApiKey.ListOffsets]: listOffsets.decodeListOffsetsRequest,
  [ApiKey.InitProducerId]: initProducerId.decodeInitProducerIdRequest,
  [ApiKey.OffsetCommit]: offsetCommit.decodeOffsetCommitRequest,
  [ApiKey.OffsetFetch]: offsetFetch.decodeOffsetFetchRequest,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch.decodeOffsetForLeaderEpochRequest,
});

export const REQUEST_ENCODERS: RequestEncoders = Object.freeze({
  [ApiKey.Handshake]: handshake.encodeHandshakeRequest,
  [ApiKey.Metadata]: metadata.encodeMetadataRequest,
  [ApiKey.CreateTopics]: createTopics.encodeCreateTopicsRequest,
  [ApiKey.DeleteTopics]: deleteTopics.encodeDeleteTopicsRequest,
  [ApiKey.Produce]: produce.encodeProduceRequest,
  [ApiKey.Fetch]: fetchMessages.encodeFetchRequest,
  [ApiKey.Subscribe]: subscribe.encodeSubscribeRequest,
  [ApiKey.Credit]: credit.encodeCreditRequest,
  [ApiKey.Unsubscribe]: unsubscribe.encodeUnsubscribeRequest,
  [ApiKey.ListOffsets]: listOffsets.encodeListOffsetsRequest,
  [ApiKey.InitProducerId]: initProducerId.encodeInitProducerIdRequest,
  [ApiKey.OffsetCommit]: offsetCommit.encodeOffsetCommitRequest,
  [ApiKey.OffsetFetch]: offsetFetch.encodeOffsetFetchRequest,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch.encodeOffsetForLeaderEpochRequest,
});

export const RESPONSE_DECODERS: ResponseDecoders = Object.freeze({
  [ApiKey.Handshake]: handshake.decodeHandshakeResponse,
  [ApiKey.Metadata]: metadata.decodeMetadataResponse,
  [ApiKey.CreateTopics]: createTopics.decodeCreateTopicsResponse,
  [ApiKey.DeleteTopics]: deleteTopics.decodeDeleteTopicsResponse,
  [ApiKey.Produce]: produce.decodeProduceResponse,
  [ApiKey.Fetch]: fetchMessages.decodeFetchResponse,
  [ApiKey.Subscribe]: subscribe.decodeSubscribeResponse,
  [ApiKey.Credit]: credit.decodeCreditResponse,
  [ApiKey.Unsubscribe]: unsubscribe.decodeUnsubscribeResponse,
  [ApiKey.ListOffsets]: listOffsets.decodeListOffsetsResponse,
  [ApiKey.InitProducerId]: initProducerId.decodeInitProducerIdResponse,
  [ApiKey.OffsetCommit]: offsetCommit.decodeOffsetCommitResponse,
  [ApiKey.OffsetFetch]: offsetFetch.decodeOffsetFetchResponse,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch.decodeOffsetForLeaderEpochResponse,
});

export const RESPONSE_ENCODERS: ResponseEncoders = Object.freeze({
  [ApiKey.Handshake]: handshake.encodeHandshakeResponse,
  [ApiKey.Metadata]: metadata.encodeMetadataResponse,
  [ApiKey.CreateTopics]: createTopics.encodeCreateTopicsResponse,
  [ApiKey.DeleteTopics]: deleteTopics.encodeDeleteTopicsResponse,
  [ApiKey.Produce]: produce.encodeProduceResponse,
  [ApiKey.Fetch]: fetchMessages.encodeFetchResponse,
  [ApiKey.Subscribe]: subscribe.encodeSubscribeResponse,
  [ApiKey.Credit]: credit.encodeCreditResponse,
  [ApiKey.Unsubscribe]: unsubscribe.encodeUnsubscribeResponse,
  [ApiKey.ListOffsets]: listOffsets.encodeListOffsetsResponse,
  [ApiKey.InitProducerId]: initProducerId.encodeInitProducerIdResponse,
  [ApiKey.OffsetCommit]: offsetCommit.encodeOffsetCommitResponse,
  [ApiKey.OffsetFetch]: offsetFetch.encodeOffsetFetchResponse,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpoch.encodeOffsetForLeaderEpochResponse,
});

/** A decoded request tagged with its apiKey, so that a `switch (decoded.apiKey)` narrows it. */
export type DecodedRequest = { readonly [K in ApiKey]: { readonly apiKey: K; readonly request: RequestByApiKey[K] } }[ApiKey];

/** Decodes a request body by its apiKey; a malformed body throws BodyDecodeError (INVALID_REQUEST). */
export function decodeRequest(apiKey: ApiKey, body: Uint8Array): DecodedRequest {
  const decode = REQUEST_DECODERS[apiKey] as (bytes: Uint8Array) => RequestByApiKey[ApiKey];
  return { apiKey, request: decode(body) } as DecodedRequest;
}
