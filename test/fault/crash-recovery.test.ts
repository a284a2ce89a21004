import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBatchFraming, lastOffsetOf } from '../../src/record/index.js';
import { LogManager, RECOVERY_POINT_CHECKPOINT_FILE } from '../../src/storage/log-manager.js';
import { parseOffsetCheckpoint } from '../../src/storage/offset-checkpoint-file.js';
import {
  FAULT_LOG_CONFIG, FAULT_PARTITION, FAULT_PARTITION_DIR, FAULT_TOPIC, appendBytes, faultManagerOptions, parseAcks,
  truncateBy, verifyFaultLog, type Ack,
} from '../helpers/fault.js';
import { CLI_PATH, runCli } from '../helpers/process.js';
import { seededRandom } from '../helpers/log-assertions.js';
import { capturingLogger, makeTempDir } from '../helpers/storage.js';

/**
 * Real crashes: a child process appends with many appends in flight (group commit) and is
 * SIGKILLed at a random moment, twenty times over one data directory. After every kill the log
 * is recovered in this process through LogManager.open (so the checkpoint files are read) and
 * read back whole. Odd rounds recover a copy, leaving the original in its crashed state for the
 * next appender to recover; even rounds recover in place.
 *
 * SIGKILL loses nothing the process wrote (the page cache survives it), so every third round
 * also plays a power loss: the active segment loses a random part of what was never known to be
 * fsynced, sometimes leaving zeros where the file grew but its data never reached the disk.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APPENDER = fileURLToPath(new URL('./fixtures/appender.ts', import.meta.url));
const SEED = 0x51_c0_de;
const ROUNDS = 20;
const KILL_DELAY_MS_MIN = 50;
const KILL_DELAY_MS_MAX = 400;
const IN_FLIGHT_CHOICES = [8, 16, 32] as const;
/** Bounds the wait for the first ack: tsx startup plus recovery of the whole log. */
const FIRST_ACK_WAIT_MS_MAX = 15_000;
const EXIT_WAIT_MS_MAX = 10_000;
/** The appender stops by itself after this, should the test lose track of it. */
const APPENDER_RUN_MS_MAX = 30_000;
const STDERR_KEPT_BYTES_MAX = 64 * 1024;
/** Rounds where the unsynced tail is also lost, as in a power cut. */
const POWER_LOSS_EVERY_ROUNDS = 3;
/** Most zero bytes a power loss leaves past the data that made it to disk. */
const POWER_LOSS_ZERO_BYTES_MAX = 4096;
/** dump-log prints every batch and takes seconds on the final log: run it on a few rounds only. */
const DUMP_LOG_ROUNDS = new Set([2, 11, ROUNDS - 1]);

/** What recovering a crashed directory in this process found. */
interface Recovered {
  /** Base offset → `round/seq` of every batch in the recovered log. */
  readonly stored: Map<number, string>;
  readonly logEndOffset: number;
  readonly sizeBytes: number;
  readonly bytesScanned: number;
  readonly bytesTruncated: number;
  /** A warning with "truncated" in its message and a bytesTruncated field was logged. */
  readonly truncationLogged: boolean;
}

interface RoundResult {
  readonly acks: Ack[];
  /** What the appender's own recovery of the crashed log scanned. */
  readonly appenderBytesScanned: number;
  /** The log end the appender recovered to: made durable by its recovery. */
  readonly openLogEndOffset: number;
  readonly killDelayMs: number;
  readonly firstAckMs: number;
}

class Appender {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => { this.stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_KEPT_BYTES_MAX); });
    // 'close' fires once the process has exited and its stdout is read to the end.
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForFirstAck(): Promise<void> {
    const deadline = Date.now() + FIRST_ACK_WAIT_MS_MAX;
    while (!this.stdout.includes('\nACK ')) {
      if (!this.running) throw new Error(`appender exited before its first ack:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ack within ${FIRST_ACK_WAIT_MS_MAX} ms:\n${this.stderr}`);
      await sleep(5);
    }
  }

  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) process.kill(this.child.pid!, 'SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pid ${this.child.pid} did not exit after SIGKILL`)), EXIT_WAIT_MS_MAX);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('crash recovery under SIGKILL', () => {
  const random = seededRandom(SEED);
  let dataDir: string;
  const cleanups: Array<() => Promise<void>> = [];
  let live: Appender | null = null;

  beforeAll(async () => {
    const temp = await makeTempDir('sluice-crash-');
    cleanups.push(temp.cleanup);
    dataDir = join(temp.dir, 'data');
  });

  afterAll(async () => {
    if (live !== null) await live.kill().catch(() => undefined);
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function crashRound(round: number): Promise<RoundResult> {
    const inFlight = IN_FLIGHT_CHOICES[Math.floor(random() * IN_FLIGHT_CHOICES.length)]!;
    const killDelayMs = Math.round(KILL_DELAY_MS_MIN + random() * (KILL_DELAY_MS_MAX - KILL_DELAY_MS_MIN));
    const startedAt = Date.now();
    const appender = new Appender(spawn(process.execPath, ['--import', 'tsx', APPENDER, dataDir, String(round), String(inFlight), String(APPENDER_RUN_MS_MAX)], { cwd: REPO_ROOT, stdio: 'pipe' }));
    live = appender;
    await appender.waitForFirstAck();
    const firstAckMs = Date.now() - startedAt;
    await sleep(killDelayMs);
    const exit = await appender.kill();
    live = null;
    expect(exit, `round ${round} must die by our SIGKILL, not on its own:\n${appender.stderr}`).toEqual({ code: null, signal: 'SIGKILL' });
    const acks = parseAcks(round, appender.stdout);
    expect(acks.length).toBeGreaterThan(0);
    const logLines = appender.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; bytesScanned?: number });
    expect(logLines.filter((line) => line.level >= 50), `round ${round}: the appender logged no error`).toEqual([]);
    const loaded = logLines.find((line) => line.msg === 'partition log loaded');
    const opened = /^OPEN (\d+)$/m.exec(appender.stdout);
    expect(opened).not.toBeNull();
    return { acks, killDelayMs, firstAckMs, appenderBytesScanned: loaded?.bytesScanned ?? 0, openLogEndOffset: Number(opened![1]) };
  }

  /**
   * Plays a power cut on the crashed data directory: of the active segment, keeps what is known
   * durable (offsets below `durableOffset`) and a random part of the rest, then sometimes adds
   * zeros. Older segments were fsynced when they rolled and lose nothing.
   */
  async function losePowerAfter(durableOffset: number): Promise<{ lostBytes: number; zeroBytes: number }> {
    const partitionDir = join(dataDir, FAULT_PARTITION_DIR);
    const active = (await readdir(partitionDir)).filter((name) => /^\d{20}\.log$/.test(name)).sort().at(-1)!;
    const bytes = await readFile(join(partitionDir, active));
    let durablePosition = 0;
    for (let at = 0; at < bytes.length;) {
      const check = checkBatchFraming(bytes, at, FAULT_LOG_CONFIG.batchBytesMax);
      if (check.kind !== 'valid' || check.header.baseOffset >= durableOffset) break;
      at += check.sizeBytes;
      if (lastOffsetOf(check.header) < durableOffset) durablePosition = at;
    }
    const lostBytes = Math.floor(random() * (bytes.length - durablePosition + 1));
    await truncateBy(join(partitionDir, active), lostBytes);
    const zeroBytes = random() < 0.5 ? 1 + Math.floor(random() * POWER_LOSS_ZERO_BYTES_MAX) : 0;
    if (zeroBytes > 0) await appendBytes(join(partitionDir, active), new Uint8Array(zeroBytes));
    return { lostBytes, zeroBytes };
  }

  async function durableOffsetAfter(result: RoundResult): Promise<number> {
    const checkpoint = parseOffsetCheckpoint(await readFile(join(dataDir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8').catch(() => ''));
    const recoveryPoint = checkpoint.kind === 'read' ? Math.max(0, ...checkpoint.entries.map((entry) => entry.offset)) : 0;
    return Math.max(result.openLogEndOffset, recoveryPoint, ...result.acks.map((ack) => ack.lastOffset + 1));
  }

  /** Recovers `dir` through LogManager.open and checks the whole log; returns offset → batch identity. */
  async function recoverAndVerify(dir: string, acks: readonly Ack[], before: ReadonlyMap<number, string>, round: number): Promise<Recovered> {
    const recoveryPointRead = parseOffsetCheckpoint(await readFile(join(dir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8').catch(() => ''));
    const { logger, lines } = capturingLogger();
    const manager = await LogManager.open(faultManagerOptions(dir, { logger }));
    try {
      const log = manager.log(FAULT_TOPIC, FAULT_PARTITION);
      expect(log, `round ${round}: the partition is found`).toBeDefined();
      const verdict = await verifyFaultLog(log!, acks);
      expect(verdict.problems, `round ${round}`).toEqual([]);
      expect(verdict.ackedFound).toBe(acks.length);
      expect(log!.highWatermark).toBe(log!.logEndOffset);
      // A batch that a recovered log once held (and could serve) never disappears later.
      const lost = [...before].filter(([offset, identity]) => verdict.stored.get(offset) !== identity).slice(0, 5);
      expect(lost, `round ${round}: batches recovered earlier are gone`).toEqual([]);
      expect(lines.filter((line) => line.level >= 50), `round ${round}: no error logged`).toEqual([]);
      // The checkpoint the crash left never names an offset the recovered log does not have.
      if (recoveryPointRead.kind === 'read') {
        for (const entry of recoveryPointRead.entries) expect(entry.offset).toBeLessThanOrEqual(log!.logEndOffset);
      }
      const truncationLogged = lines.some((line) => line.level === 40 && line.msg.includes('truncated') && typeof line['bytesTruncated'] === 'number');
      const { bytesTruncated, bytesScanned } = log!.loadReport;
      return { stored: verdict.stored, logEndOffset: log!.logEndOffset, sizeBytes: log!.sizeBytes, bytesTruncated, bytesScanned, truncationLogged };
    } finally {
      await manager.close();
    }
  }

  async function dumpLogVerifies(partitionDir: string, logEndOffset: number): Promise<boolean> {
    if (!existsSync(CLI_PATH)) return false;
    const result = await runCli(['dump-log', partitionDir, '--verify']);
    expect(result.code, result.stdout.split('\n').filter((line) => line.startsWith('PROBLEM')).slice(0, 5).join('\n') + result.stderr).toBe(0);
    expect(result.stdout).toContain(`offsets [0, ${logEndOffset})`);
    return true;
  }

  it(`keeps every acknowledged batch, intact and at its offsets, across ${ROUNDS} SIGKILLs of a group-committing appender`, async () => {
    const startedAtMs = Date.now();
    const acks: Ack[] = [];
    let stored = new Map<number, string>();
    let dumpLogRuns = 0;
    let checkpointedRecoveries = 0;
    const observed: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const roundStartedAtMs = Date.now();
      const result = await crashRound(round);
      const crashMs = Date.now() - roundStartedAtMs;
      acks.push(...result.acks);
      const powerLoss = round % POWER_LOSS_EVERY_ROUNDS === POWER_LOSS_EVERY_ROUNDS - 1;
      const durableOffset = await durableOffsetAfter(result);
      const lost = powerLoss ? await losePowerAfter(durableOffset) : { lostBytes: 0, zeroBytes: 0 };
      const inPlace = round % 2 === 0;
      const dir = inPlace ? dataDir : join(dataDir, '..', `copy-${round}`);
      if (!inPlace) await cp(dataDir, dir, { recursive: true });
      const verifyStartedAtMs = Date.now();
      const recovered = await recoverAndVerify(dir, acks, stored, round);
      const verifyMs = Date.now() - verifyStartedAtMs;
      stored = recovered.stored;
      expect(recovered.logEndOffset, `round ${round}: nothing durable is lost`).toBeGreaterThanOrEqual(durableOffset);
      expect(recovered.bytesTruncated).toBeGreaterThanOrEqual(lost.zeroBytes);
      expect(recovered.truncationLogged).toBe(recovered.bytesTruncated > 0);
      if (recovered.bytesScanned < recovered.sizeBytes) checkpointedRecoveries += 1;
      if (DUMP_LOG_ROUNDS.has(round) && await dumpLogVerifies(join(dir, FAULT_PARTITION_DIR), recovered.logEndOffset)) dumpLogRuns += 1;
      if (!inPlace) await rm(dir, { recursive: true, force: true });
      observed.push(`r${round}${inPlace ? '' : ' (copy)'}: ${crashMs} ms (first ack ${result.firstAckMs} ms, kill +${result.killDelayMs} ms), `
        + `${result.acks.length} acks; appender recovery scanned ${result.appenderBytesScanned} B; `
        + (powerLoss ? `power loss: -${lost.lostBytes} B +${lost.zeroBytes} zeros; ` : '')
        + `recover+verify ${verifyMs} ms: LEO ${recovered.logEndOffset}, scanned ${recovered.bytesScanned} B, cut ${recovered.bytesTruncated} B`);
    }
    console.log(`crash-recovery: ${ROUNDS} rounds in ${Date.now() - startedAtMs} ms, ${acks.length} acks, ${stored.size} batches, dump-log runs ${dumpLogRuns}\n${observed.join('\n')}`);
    expect(acks.length).toBeGreaterThanOrEqual(ROUNDS);
    // The appender checkpoints every 50 ms, so most recoveries start from a recovery point
    // inside the log rather than scanning all of it: both paths get exercised.
    expect(checkpointedRecoveries).toBeGreaterThanOrEqual(ROUNDS / 2);
  }, 90_000);
});
