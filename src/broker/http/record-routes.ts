import { SluiceError } from '../../errors/sluice-error.js';
import { isInternalTopicName } from '../../cluster/topic-rules.js';
import type { LeaderPartition } from '../partition-manager.js';
import { appendRecords } from '../produce-path.js';
import type { LeaderAcks } from '../replication/partition-leadership.js';
import { parseJsonBody, readBoundedBody } from './bounded-body.js';
import { describeError } from './http-error.js';
import { assignPartitions, encodeBatches, type PartitionRecords } from './produce-batches.js';
import { decodeProduceBody, parseValueEncoding } from './produce-body.js';
import { recordsToJson } from './records-json.js';
import { integerParam, parseInteger, type HttpContext, type Reply, type RouteCall } from './route-types.js';

// Wraps the unkeyed-request counter well inside the safe-integer range.
const NULL_KEY_COUNTER_WRAP = 2 ** 31;

/** Where one record of an HTTP produce went; `offset` null (with `error`) when its partition failed. */
interface RecordPlacement {
  partition: number;
  offset: number | null;
  error?: string;
}

/**
 * `POST /v1/topics/:topic/records` and `GET /v1/topics/:topic/partitions/:partition/records`:
 * JSON records in and out, stored as RecordBatch v2 exactly as a WebSocket producer's would be.
 */
export class RecordRoutes {
  // Rotates the partition of unkeyed records from one request to the next.
  private nullKeyRequestCount = 0;

  constructor(private readonly context: HttpContext) {}

  /**
   * Encodes every record and finds every leader before appending anything, so bad input, a
   * record too large and an unavailable partition all write nothing. Partitions are then
   * appended concurrently, each all-or-nothing; the reply waits until all are durable.
   */
  readonly produce = async (call: RouteCall): Promise<Reply> => {
    const { context } = this;
    context.metrics.produceRequest('http');
    const acks = parseAcks(call.query.get('acks'));
    const encoding = parseValueEncoding(call.query.get('encoding'));
    const topic = call.params.topic!;
    if (isInternalTopicName(topic)) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `${topic} is an internal topic; it is written only by the broker`);
    const [described] = context.partitions.describe([topic]);
    if (described?.topic == null) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `no topic ${JSON.stringify(topic)}`);
    const inputs = decodeProduceBody(parseJsonBody(await readBoundedBody(call.request, context.config.httpBodyBytesMax)), encoding);
    const partitionCount = described.topic.partitions.length;
    this.nullKeyRequestCount = (this.nullKeyRequestCount + 1) % NULL_KEY_COUNTER_WRAP;
    const groups = assignPartitions(inputs, partitionCount, this.nullKeyRequestCount % partitionCount, context.nowMs());
    const appends = groups.map((group) => ({ group, batches: encodeBatches(group.records, context.config.batchBytesMax), leader: context.partitions.leader(topic, group.partition) }));
    const settled = await Promise.allSettled(appends.map(({ leader, batches }) => this.append(leader, batches, acks)));
    return placementReply(inputs.length, groups, settled);
  };

  /** Reads committed records (below the high watermark) of one partition from `offset`. */
  readonly read = async (call: RouteCall): Promise<Reply> => {
    const { context } = this;
    const partition = parseInteger(call.params.partition!, 'partition');
    const encoding = parseValueEncoding(call.query.get('encoding'));
    const maxBytesAsked = integerParam(call.query, 'maxBytes') ?? context.config.batchBytesMax;
    if (maxBytesAsked <= 0) throw new SluiceError('INVALID_FETCH_SIZE', `maxBytes ${maxBytesAsked}`);
    const offsetAsked = integerParam(call.query, 'offset');
    const { log } = context.partitions.leader(call.params.topic!, partition);
    const offset = offsetAsked ?? log.logStartOffset;
    const highWatermark = log.highWatermark;
    // At least one whole batch comes back even when it is larger than maxBytes.
    const read = await log.read(offset, Math.min(maxBytesAsked, context.config.maxFrameBytes), highWatermark);
    context.metrics.fetched('http', read.bytes.length);
    return {
      status: 200,
      json: { records: recordsToJson(read.bytes, offset, encoding), nextOffset: read.nextOffset, highWatermark, logStartOffset: log.logStartOffset },
    };
  };

  private async append(leader: LeaderPartition, batches: Uint8Array, acks: LeaderAcks): Promise<number> {
    const { baseOffset } = await appendRecords(leader, batches, this.context.config.batchBytesMax, acks);
    this.context.metrics.produced('http', batches);
    return baseOffset;
  }
}

// The response carries offsets, which exist only once the records are durable: acks=0 cannot
// be honoured. 1 waits for the leader's fsync, all (-1) for every in-sync replica's.
function parseAcks(raw: string | null): LeaderAcks {
  if (raw === null || raw === '1') return 1;
  if (raw === '-1' || raw === 'all') return -1;
  if (raw === '0') throw new SluiceError('INVALID_REQUIRED_ACKS', 'acks=0 is not offered over HTTP: the response carries offsets, known only once durable');
  throw new SluiceError('INVALID_REQUIRED_ACKS', `acks ${JSON.stringify(raw)}: use 1 or all`);
}

// Every record's partition and offset in request order: one append gives a partition's batches
// consecutive offsets from its base offset, in the order of its records. A partition that failed leaves its
// records without offsets; the reply then has that partition's error and status, while the
// other partitions' records are written (and listed).
function placementReply(recordCount: number, groups: readonly PartitionRecords[], settled: ReadonlyArray<PromiseSettledResult<number>>): Reply {
  const offsets = new Array<RecordPlacement>(recordCount);
  let firstError: unknown = null;
  groups.forEach((group, index) => {
    const outcome = settled[index]!;
    if (outcome.status === 'rejected') firstError ??= outcome.reason;
    const error = outcome.status === 'rejected' ? describeError(outcome.reason)?.body.error ?? 'UNKNOWN_SERVER_ERROR' : null;
    group.indexes.forEach((requestIndex, i) => {
      offsets[requestIndex] = outcome.status === 'fulfilled'
        ? { partition: group.partition, offset: outcome.value + i }
        : { partition: group.partition, offset: null, error: error! };
    });
  });
  if (firstError === null) return { status: 200, json: { offsets } };
  const described = describeError(firstError);
  if (described === null) throw firstError;
  return { status: described.status, json: { ...described.body, offsets } };
}
