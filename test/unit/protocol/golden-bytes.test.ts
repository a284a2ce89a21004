import { describe, expect, it } from 'vitest';
import {
  ApiKey, API_VERSION, decodeFetchRequest, decodeFrame, decodeFrameHeader, decodeHandshakeRequest, decodeMetadataResponse,
  decodeCreateTopicsRequest, decodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochResponse, decodeProduceRequest, decodeProduceResponse,
  encodeCreateTopicsRequest, encodeFetchRequest, encodeFrame, encodeHandshakeRequest, encodeMetadataResponse, encodeOffsetForLeaderEpochRequest,
  encodeOffsetForLeaderEpochResponse, encodeProduceRequest, encodeProduceResponse, FrameKind, PROTOCOL_VERSION,
} from '../../../src/protocol/index.js';

/**
 * Byte fixtures derived by hand from docs/protocol.md, not from the code: if one of these fails,
 * the codec changed the wire format. Every integer is big-endian.
 */

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  return Uint8Array.from({ length: digits.length / 2 }, (_, index) => parseInt(digits.slice(index * 2, index * 2 + 2), 16));
}

describe('golden bytes', () => {
  it('frame header: kind u8 | apiKey u8 | apiVersion u16 | correlationId u32', () => {
    // 01          kind 1 = request
    // 04          apiKey 4 = Produce
    // 00 01       apiVersion 1
    // 01 02 03 04 correlationId 0x01020304 = 16909060
    const golden = fromHex('01 04 0001 01020304');
    const header = { kind: FrameKind.request, apiKey: ApiKey.Produce, apiVersion: 1, correlationId: 0x01020304 };
    expect(hex(encodeFrame(header, new Uint8Array(0)))).toBe(hex(golden));
    expect(decodeFrameHeader(golden)).toEqual(header);
    // A push: kind 3, apiKey 6 (Subscribe), correlationId = subscription id 0xFFFFFFFF.
    const push = { kind: FrameKind.push, apiKey: ApiKey.Subscribe, apiVersion: 1, correlationId: 0xffff_ffff };
    expect(hex(encodeFrame(push, new Uint8Array(0)))).toBe('03060001ffffffff');
  });

  it('Handshake request frame: protocolVersion u16 | clientId string', () => {
    // 01 00 0001 00000001   header: request, apiKey 0 (Handshake), apiVersion 1, correlationId 1
    // 0001                  protocolVersion 1
    // 0003                  clientId: 3 UTF-8 bytes ("sé" is 2 characters but 3 bytes)
    // 73                    's'
    // c3 a9                 'é' (U+00E9) in UTF-8
    const golden = fromHex('01 00 0001 00000001  0001  0003 73 c3a9');
    const body = encodeHandshakeRequest({ protocolVersion: 1, clientId: 'sé' });
    const frame = encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Handshake, apiVersion: 1, correlationId: 1 }, body);
    expect(hex(frame)).toBe(hex(golden));
    expect(decodeHandshakeRequest(decodeFrame(golden).body)).toEqual({ protocolVersion: 1, clientId: 'sé' });
  });

  it('Produce request frame: acks i8 | timeoutMs i32 | topics array<name string | partitions array<partition i32 | records bytes>>', () => {
    // 01 04 0001 00000007   header: request, apiKey 4 (Produce), apiVersion 1, correlationId 7
    // ff                    acks -1 (all), i8 two's complement
    // 00007530              timeoutMs 30000
    // 00000001              topics: 1 element
    //   0006 6f7264657273     name "orders": length 6, ASCII
    //   00000002              partitions: 2 elements
    //     00000000              partition 0
    //     00000004 deadbeef     records: 4 bytes, carried opaque (the broker checks batches, not the codec)
    //     ffffffff              partition -1 (decoded as is: judging it is the broker's job)
    //     00000000              records: 0 bytes
    const golden = fromHex(`01 04 0001 00000007  ff  00007530  00000001
      0006 6f7264657273  00000002  00000000 00000004 deadbeef  ffffffff 00000000`);
    const request = {
      acks: -1, timeoutMs: 30_000,
      topics: [{ name: 'orders', partitions: [{ partition: 0, records: fromHex('deadbeef') }, { partition: -1, records: new Uint8Array(0) }] }],
    };
    const frame = encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Produce, apiVersion: 1, correlationId: 7 }, encodeProduceRequest(request));
    expect(hex(frame)).toBe(hex(golden));
    expect(decodeProduceRequest(decodeFrame(golden).body)).toEqual(request);
  });

  it('Produce response body: i64 offsets in two\'s complement, at the edges of ±(2^53-1)', () => {
    // 0000                  errorCode 0
    // ffff                  errorMessage null (i16 length -1)
    // 00000001              topics: 1 element
    //   0001 74               name "t"
    //   00000002              partitions: 2 elements
    //     00000003              partition 3
    //     0002                  errorCode 2 (CORRUPT_MESSAGE)
    //     ffffffffffffffff      baseOffset -1 (an error: no offset given)
    //     ffe0000000000001      logStartOffset -(2^53-1) = -0x001fffffffffffff
    //     00000004 0000         partition 4, errorCode 0
    //     001fffffffffffff      baseOffset 2^53-1
    //     0000000100000000      logStartOffset 2^32
    const golden = fromHex(`0000 ffff 00000001 0001 74 00000002
      00000003 0002 ffffffffffffffff ffe0000000000001
      00000004 0000 001fffffffffffff 0000000100000000`);
    const response = {
      headerOnly: false as const, errorCode: 0, errorMessage: null,
      topics: [{ name: 't', partitions: [
        { partition: 3, errorCode: 2, baseOffset: -1, logStartOffset: -(2 ** 53 - 1) },
        { partition: 4, errorCode: 0, baseOffset: 2 ** 53 - 1, logStartOffset: 2 ** 32 },
      ] }],
    };
    expect(hex(encodeProduceResponse(response))).toBe(hex(golden));
    expect(decodeProduceResponse(golden)).toEqual(response);
  });

  it('protocol version 2: every API body is apiVersion 2', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    expect(API_VERSION).toBe(2);
    expect(ApiKey.OffsetForLeaderEpoch).toBe(13);
  });

  it('Fetch request v2: fetchPartition = topic string | partition i32 | currentLeaderEpoch i32 | fetchOffset i64 | partitionMaxBytes i32', () => {
    // 00000002              replicaId 2 (a follower)
    // 000001f4              maxWaitMs 500
    // 00000001              minBytes 1
    // 00100000              maxBytes 1 MiB
    // 00000002              partitions: 2 elements
    //   0001 74 00000000      topic "t", partition 0
    //   00000005              currentLeaderEpoch 5
    //   000000000000002a      fetchOffset 42
    //   00010000              partitionMaxBytes 64 KiB
    //   0001 74 00000001      topic "t", partition 1
    //   ffffffff              currentLeaderEpoch -1: absent in the request object, "do not check"
    //   0000000000000000      fetchOffset 0
    //   00010000              partitionMaxBytes 64 KiB
    const golden = fromHex(`00000002 000001f4 00000001 00100000 00000002
      0001 74 00000000 00000005 000000000000002a 00010000
      0001 74 00000001 ffffffff 0000000000000000 00010000`);
    const request = {
      replicaId: 2, maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, partitions: [
        { topic: 't', partition: 0, currentLeaderEpoch: 5, fetchOffset: 42, partitionMaxBytes: 1 << 16 },
        { topic: 't', partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 16 },
      ],
    };
    expect(hex(encodeFetchRequest(request))).toBe(hex(golden));
    expect(decodeFetchRequest(golden).partitions[1]).toEqual({ ...request.partitions[1], currentLeaderEpoch: -1 });
  });

  it('Metadata response v2: controllerId i32 between brokers and topics; -1 when absent', () => {
    // 0000 ffff                   header: errorCode 0, errorMessage null
    // 00000001                    brokers: 1 element
    //   00000003 0001 68 2384       brokerId 3, host "h", port 9092
    // 00000003                    controllerId 3
    // 00000000                    topics: none
    const golden = fromHex('0000 ffff 00000001 00000003 0001 68 2384 00000003 00000000');
    const response = { headerOnly: false as const, errorCode: 0, errorMessage: null, brokers: [{ brokerId: 3, host: 'h', port: 9092 }], controllerId: 3, topics: [] };
    expect(hex(encodeMetadataResponse(response))).toBe(hex(golden));
    expect(decodeMetadataResponse(golden)).toEqual(response);
    const { controllerId: _, ...withoutController } = response;
    expect(hex(encodeMetadataResponse(withoutController))).toBe(hex(fromHex('0000 ffff 00000001 00000003 0001 68 2384 ffffffff 00000000')));
  });

  it('OffsetForLeaderEpoch request and response (apiKey 13)', () => {
    // request:
    // 00000001              replicaId 1
    // 00000001              partitions: 1 element
    //   0001 74               topic "t"
    //   00000000              partition 0
    //   00000007              currentLeaderEpoch 7
    //   00000004              leaderEpoch 4 (the follower's latest)
    const request = fromHex('00000001 00000001 0001 74 00000000 00000007 00000004');
    const requestFields = { replicaId: 1, partitions: [{ topic: 't', partition: 0, currentLeaderEpoch: 7, leaderEpoch: 4 }] };
    expect(hex(encodeOffsetForLeaderEpochRequest(requestFields))).toBe(hex(request));
    expect(decodeOffsetForLeaderEpochRequest(request)).toEqual(requestFields);
    // response:
    // 0000 ffff             header: errorCode 0, errorMessage null
    // 00000002              partitions: 2 elements
    //   0001 74 00000000      topic "t", partition 0
    //   0000                  errorCode 0
    //   00000003              leaderEpoch 3 (the largest the leader knows <= 4)
    //   00000000000004b0      endOffset 1200
    //   0001 74 00000001      topic "t", partition 1
    //   004a                  errorCode 74 FENCED_LEADER_EPOCH
    //   ffffffff              leaderEpoch -1
    //   ffffffffffffffff      endOffset -1
    const response = fromHex(`0000 ffff 00000002
      0001 74 00000000 0000 00000003 00000000000004b0
      0001 74 00000001 004a ffffffff ffffffffffffffff`);
    const responseFields = {
      headerOnly: false as const, errorCode: 0, errorMessage: null, partitions: [
        { topic: 't', partition: 0, errorCode: 0, leaderEpoch: 3, endOffset: 1200 },
        { topic: 't', partition: 1, errorCode: 74, leaderEpoch: -1, endOffset: -1 },
      ],
    };
    expect(hex(encodeOffsetForLeaderEpochResponse(responseFields))).toBe(hex(response));
    expect(decodeOffsetForLeaderEpochResponse(response)).toEqual(responseFields);
  });

  it('CreateTopics request v2: newTopic = name string | partitionCount i32 | replicationFactor i16 | minInsyncReplicas i16', () => {
    // 00000002              topics: 2 elements
    //   0001 61               name "a"
    //   00000003              partitionCount 3
    //   0003                  replicationFactor 3
    //   0002                  minInsyncReplicas 2
    //   0001 62               name "b"
    //   00000001              partitionCount 1
    //   0001                  replicationFactor 1
    //   ffff                  minInsyncReplicas -1: absent in the request object, "the broker's default"
    const golden = fromHex('00000002 0001 61 00000003 0003 0002 0001 62 00000001 0001 ffff');
    const request = {
      topics: [
        { name: 'a', partitionCount: 3, replicationFactor: 3, minInsyncReplicas: 2 },
        { name: 'b', partitionCount: 1, replicationFactor: 1 },
      ],
    };
    expect(hex(encodeCreateTopicsRequest(request))).toBe(hex(golden));
    expect(decodeCreateTopicsRequest(golden).topics[1]).toEqual({ ...request.topics[1], minInsyncReplicas: -1 });
  });
});
