/**
 * The failover bench's data check, pure: given what the producer sent and had acknowledged and
 * what a consumer read back from the partition, list every way the two disagree. A failover
 * figure is reported only when this finds nothing.
 */

/** A record read back: its offset and its value as text. */
export interface ReadRecord {
  readonly offset: number;
  readonly value: string;
}

/** Problems listed in full; past this many only the count grows. */
const PROBLEMS_LISTED_MAX = 10;

/** What the check found: `problemCount` 0 means every acknowledged record is there exactly once. */
export interface RecordCheck {
  readonly acknowledged: number;
  readonly read: number;
  readonly problemCount: number;
  /** The first problems, in words. */
  readonly problems: readonly string[];
}

/**
 * Every acknowledged value (value → acknowledged offset) must be read exactly once and at its
 * acknowledged offset; no value may be read twice (the idempotent producer's promise, which also
 * covers records whose send failed); every value read must be one that was sent.
 */
export function checkExactlyOnce(sent: ReadonlySet<string>, acknowledged: ReadonlyMap<string, number>, read: readonly ReadRecord[]): RecordCheck {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (text: string): void => {
    problemCount += 1;
    if (problems.length < PROBLEMS_LISTED_MAX) problems.push(text);
  };
  const offsetsOf = new Map<string, number[]>();
  for (const record of read) {
    const offsets = offsetsOf.get(record.value);
    if (offsets === undefined) offsetsOf.set(record.value, [record.offset]);
    else offsets.push(record.offset);
    if (!sent.has(record.value)) problem(`offset ${record.offset} holds a value that was never sent: ${JSON.stringify(record.value.slice(0, 40))}`);
  }
  for (const [value, offsets] of offsetsOf) {
    if (offsets.length > 1) problem(`${JSON.stringify(value.slice(0, 40))} is written ${offsets.length} times, at offsets ${offsets.join(', ')}`);
  }
  for (const [value, ackedOffset] of acknowledged) {
    const offsets = offsetsOf.get(value);
    if (offsets === undefined) problem(`acknowledged at offset ${ackedOffset} but lost: ${JSON.stringify(value.slice(0, 40))}`);
    else if (!offsets.includes(ackedOffset)) problem(`acknowledged at offset ${ackedOffset} but read at ${offsets.join(', ')}: ${JSON.stringify(value.slice(0, 40))}`);
  }
  return { acknowledged: acknowledged.size, read: read.length, problemCount, problems };
}
