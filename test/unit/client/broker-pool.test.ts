import { describe, expect, it } from 'vitest';
import { bootstrapUrlsOf, candidateUrls, urlOfBroker } from '../../../src/client/broker-pool.js';

/** Which URLs the client tries, in which order, and how a broker's Metadata address becomes a URL. */

describe('bootstrap URLs', () => {
  it('takes `brokers` and the older single `url`, normalised and without duplicates', () => {
    expect(bootstrapUrlsOf({ url: 'ws://127.0.0.1:9092' })).toEqual(['ws://127.0.0.1:9092/ws']);
    expect(bootstrapUrlsOf({ brokers: ['ws://a:1', 'wss://b:2/path', 'ws://a:1/ws'] })).toEqual(['ws://a:1/ws', 'wss://b:2/path']);
    expect(bootstrapUrlsOf({ brokers: ['ws://a:1'], url: 'ws://c:3' })).toEqual(['ws://a:1/ws', 'ws://c:3/ws']);
  });

  it('refuses none, a non-list and a URL that is not ws: or wss: with invalid-argument', () => {
    expect(() => bootstrapUrlsOf({})).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    expect(() => bootstrapUrlsOf({ brokers: [] })).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    expect(() => bootstrapUrlsOf({ brokers: 'ws://a:1' as unknown as string[] })).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
    expect(() => bootstrapUrlsOf({ brokers: ['http://a:1'] })).toThrow(expect.objectContaining({ reason: 'invalid-argument' }));
  });
});

describe('broker URLs', () => {
  it("reaches a broker at its Metadata host and port with the bootstrap URL's scheme and path", () => {
    expect(urlOfBroker({ brokerId: 1, host: '10.0.0.2', port: 9093 }, 'wss://lb.example:443/sluice/ws')).toBe('wss://10.0.0.2:9093/sluice/ws');
    expect(urlOfBroker({ brokerId: 1, host: '::1', port: 9093 }, 'ws://a:1/ws')).toBe('ws://[::1]:9093/ws');
  });

  it('tries known brokers then bootstrap URLs, each once, starting from the one that last worked', () => {
    const known = [{ brokerId: 1, host: 'a', port: 1 }, { brokerId: 2, host: 'b', port: 2 }];
    const bootstrap = ['ws://a:1/ws', 'ws://seed:9/ws'];
    expect(candidateUrls(known, bootstrap, null)).toEqual(['ws://a:1/ws', 'ws://b:2/ws', 'ws://seed:9/ws']);
    expect(candidateUrls(known, bootstrap, 'ws://b:2/ws')).toEqual(['ws://b:2/ws', 'ws://seed:9/ws', 'ws://a:1/ws']);
    expect(candidateUrls([], bootstrap, 'ws://gone:1/ws')).toEqual(bootstrap);
  });
});
