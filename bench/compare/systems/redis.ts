import type { LatencySummaryMs } from '../../common/latency.js';
import type {
  AckMeaning, ConsumeParams, EndToEndParams, ParallelProduceParams, ProduceThroughputParams, SequentialProduceParams,
  SystemUnderTest, ThroughputFigures,
} from '../system.js';
import { REDIS_SERVER_PATH, RedisServer, redisServerInstalled, type AppendFsyncPolicy } from './redis-server.js';
import * as workloads from './redis-workloads.js';

/**
 * Redis Streams as a peer: one redis-server 7.0.15 with the append-only file on, once with
 * `appendfsync always` and once with `everysec`. A stream is a stream key; N partitions are N
 * keys (`<stream>.<i>`), since a Redis stream has no partitions of its own.
 */

const CLIENT = 'ioredis 6.0.0';
const SERVER = 'redis-server 7.0.15';

/**
 * What an ack meant, traced on this machine (2026-11-23) with `strace -f -qq -e
 * trace=fsync,fdatasync -p <pid>`: Redis fdatasyncs the AOF in beforeSleep, before it writes
 * the replies of the commands that event-loop pass processed, when appendfsync is always.
 */
const ACK_MEANINGS: Readonly<Record<AppendFsyncPolicy, AckMeaning>> = {
  always: {
    fsynced: true,
    description: 'AOF fdatasync before the reply (appendfsync always; one per event-loop batch: group commit)',
    evidence: 'strace -f -e fsync,fdatasync: 1,000 fdatasync (main thread) for 1,000 sequential XADDs; 314 for 20,000 XADDs with 1,000 in flight',
  },
  everysec: {
    fsynced: false,
    description: 'page cache; AOF fdatasync once a second by a background thread (appendfsync everysec)',
    evidence: 'strace -f -e fsync,fdatasync: 2 fdatasync (background thread, 1 s apart) in 1.6 s of tracing that held 1,000 sequential XADDs (0.38 s)',
  },
};

/** Both Redis Streams systems, or none (with one line logged) when redis-server is missing. */
export async function redisSystems(log: (line: string) => void): Promise<SystemUnderTest[]> {
  if (!(await redisServerInstalled())) {
    log(`skipping Redis Streams: ${REDIS_SERVER_PATH} not found`);
    return [];
  }
  return [new RedisStreamsSystem('always'), new RedisStreamsSystem('everysec')];
}

/** One redis-server with the AOF on and a given fsync policy, driven through ioredis. */
class RedisStreamsSystem implements SystemUnderTest {
  readonly name: string;
  readonly client = CLIENT;
  readonly server = SERVER;
  readonly replicas = 1;
  readonly shapeNote = 'N stream keys, one per producer (each on its own connection); one Redis server';
  private running: RedisServer | null = null;
  private readonly partitionsByStream = new Map<string, number>();

  constructor(private readonly policy: AppendFsyncPolicy) {
    this.name = `Redis Streams (appendfsync ${policy})`;
  }

  async start(): Promise<void> {
    if (this.running !== null) throw new Error(`${this.name} is already started`);
    this.running = await RedisServer.start(this.policy);
  }

  async stop(): Promise<void> {
    const server = this.running;
    this.running = null;
    await server?.stop();
  }

  serverPids(): readonly number[] {
    return this.running === null ? [] : [this.running.pid];
  }

  ackMeaning(): AckMeaning {
    return ACK_MEANINGS[this.policy];
  }

  // A Redis stream comes into being with its first XADD; only the key names are decided here.
  async createStream(stream: string, partitions: number): Promise<void> {
    this.partitionsByStream.set(stream, partitions);
  }

  async dropStream(stream: string): Promise<void> {
    const redis = await this.connect();
    try {
      await redis.del(stream, ...this.keysOf(stream, this.partitionsByStream.get(stream) ?? 1));
    } finally {
      redis.disconnect();
      this.partitionsByStream.delete(stream);
    }
  }

  produceThroughput(params: ProduceThroughputParams): Promise<ThroughputFigures> {
    return workloads.produceThroughput(this.connect, params);
  }

  produceSequential(params: SequentialProduceParams): Promise<LatencySummaryMs> {
    return workloads.produceSequential(this.connect, params);
  }

  consumeAll(params: ConsumeParams): Promise<ThroughputFigures> {
    return workloads.consumeAll(this.connect, params);
  }

  endToEnd(params: EndToEndParams): Promise<LatencySummaryMs> {
    return workloads.endToEnd(this.connect, params);
  }

  produceParallel(params: ParallelProduceParams): Promise<ThroughputFigures> {
    return workloads.produceParallel(this.connect, params, this.keysOf(params.stream, params.producers));
  }

  private readonly connect: workloads.RedisConnect = async () => {
    if (this.running === null) throw new Error(`${this.name} is not started`);
    return workloads.connectRedis(this.running.port);
  };

  private keysOf(stream: string, partitions: number): string[] {
    return Array.from({ length: partitions }, (_, i) => `${stream}.${i}`);
  }
}
