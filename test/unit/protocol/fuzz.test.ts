import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { BodyDecodeError } from '../../../src/protocol/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { CODECS, type Codec } from './samples.js';

/**
 * Seeded fuzzing of every body decoder: random bodies and mutations of valid ones. Each must
 * decode or throw BodyDecodeError (a SluiceError named INVALID_REQUEST), never anything else;
 * and whatever decodes must encode back to exactly the same bytes (the wire form is canonical:
 * no two bodies decode to the same fields).
 */

/** Seed of every run; change it to explore, keep it to replay a failure. */
const SEED = 0x51ce_f022;
const BODIES_PER_DECODER = 10_000;
/** One body in this many is random bytes; the rest are mutated samples. */
const RANDOM_BODY_EVERY = 3;
const RANDOM_BODY_BYTES_MAX = 96;
const MUTATIONS_PER_BODY_MAX = 4;
const INSERTED_BYTES_MAX = 16;
/** Bytes that make lengths and counts interesting: zero, one, sign bits, all ones. */
const SPECIAL_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff] as const;

type Random = () => number;

function below(random: Random, bound: number): number {
  return Math.floor(random() * bound);
}

/**
 * Random bytes, mostly small values so that counts and lengths stay small and decoding goes
 * deep; a response body starts, half of the time, with a success header (0000 ffff).
 */
function randomBody(random: Random, codec: Codec): Uint8Array {
  const length = below(random, RANDOM_BODY_BYTES_MAX + 1);
  const bytes = Uint8Array.from({ length }, () => (random() < 0.7 ? below(random, 3) : below(random, 256)));
  if (codec.direction === 'response' && length >= 4 && random() < 0.5) bytes.set([0, 0, 0xff, 0xff]);
  return bytes;
}

function mutate(random: Random, original: Uint8Array): Uint8Array {
  let bytes: Uint8Array = original.slice();
  const mutations = 1 + below(random, MUTATIONS_PER_BODY_MAX);
  for (let step = 0; step < mutations; step++) {
    const at = below(random, bytes.length + 1);
    const kind = below(random, 6);
    if (kind === 0 && at < bytes.length) bytes[at]! ^= 1 << below(random, 8);
    else if (kind === 1 && at < bytes.length) bytes[at] = SPECIAL_BYTES[below(random, SPECIAL_BYTES.length)]!;
    else if (kind === 2) bytes = bytes.slice(0, at);
    else if (kind === 3) bytes = splice(bytes, at, 0, Uint8Array.from({ length: 1 + below(random, INSERTED_BYTES_MAX) }, () => below(random, 256)));
    else if (kind === 4) bytes = splice(bytes, at, 1 + below(random, INSERTED_BYTES_MAX), new Uint8Array(0));
    else if (at < bytes.length) bytes[at] = below(random, 256);
  }
  return bytes;
}

function splice(bytes: Uint8Array, at: number, deleteCount: number, insert: Uint8Array): Uint8Array {
  const end = Math.min(at + deleteCount, bytes.length);
  const result = new Uint8Array(at + insert.length + bytes.length - end);
  result.set(bytes.subarray(0, at));
  result.set(insert, at);
  result.set(bytes.subarray(end), at + insert.length);
  return result;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

describe(`seeded fuzz (seed ${SEED}, ${BODIES_PER_DECODER} bodies per decoder)`, () => {
  for (const [codecIndex, codec] of CODECS.entries()) {
    it(`${codec.name}: every body decodes (and re-encodes to itself) or is refused as INVALID_REQUEST`, () => {
      const random = mulberry32(SEED + codecIndex);
      const originals = codec.samples.map((sample) => codec.encode(sample));
      let decoded = 0;
      let refused = 0;
      for (let iteration = 0; iteration < BODIES_PER_DECODER; iteration++) {
        const body = iteration % RANDOM_BODY_EVERY === 0
          ? randomBody(random, codec)
          : mutate(random, originals[below(random, originals.length)]!);
        let value: unknown;
        try {
          value = codec.decode(body);
        } catch (error) {
          const expected = error instanceof BodyDecodeError && error instanceof SluiceError && error.errorName === 'INVALID_REQUEST';
          if (!expected) throw new Error(`seed ${SEED + codecIndex}, iteration ${iteration}: ${codec.name} threw ${String(error)}`, { cause: error });
          refused++;
          continue;
        }
        decoded++;
        if (!sameBytes(codec.encode(value), body)) {
          throw new Error(`seed ${SEED + codecIndex}, iteration ${iteration}: ${codec.name} decoded a body that does not re-encode to itself`);
        }
      }
      expect(decoded + refused).toBe(BODIES_PER_DECODER);
      // Both outcomes happen, so the fuzzing reaches past the first field and into valid bodies.
      expect(refused).toBeGreaterThan(BODIES_PER_DECODER / 10);
      expect(decoded).toBeGreaterThan(BODIES_PER_DECODER / 100);
    });
  }
});
