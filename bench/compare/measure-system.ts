import { checkAck, refineAckMeaning } from './ack-check.js';
import type { SystemResult } from './compare-results.js';
import type { ComparePlan } from './plan.js';
import { RssSampler } from './rss-sampler.js';
import { runWorkloads } from './run-workloads.js';
import type { SystemUnderTest } from './system.js';

/**
 * One system, start to stop: start it, check what its acks mean (strace), run the workloads,
 * stop it, while its server processes' RSS is sampled. A start that fails is a result too (the
 * row says so); stop is always attempted, and a stop that fails is logged.
 */
export async function measureSystem(system: SystemUnderTest, plan: ComparePlan, log: (line: string) => void): Promise<SystemResult> {
  const identity = { name: system.name, client: system.client, server: system.server, replicas: system.replicas, shapeNote: system.shapeNote };
  const sampler = new RssSampler(() => system.serverPids(), plan.rssSampleIntervalMs);
  log(`${system.name}: starting (${system.server})`);
  try {
    await system.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${system.name}: start failed: ${message}`);
    await stopQuietly(system, log);
    return {
      ...identity, startError: message.split('\n')[0]!, ack: system.ackMeaning(), ackCheck: null,
      produce: null, consume: null, sequential: null, endToEnd: [], parallel: null, rssPeakBytes: null, rssPeakBytesByPid: {},
    };
  }
  sampler.start();
  try {
    const ackCheck = await checkAck(system, plan.ackCheckRecords, plan.valueBytes, log);
    const ack = refineAckMeaning(system.ackMeaning(), ackCheck);
    log(`${system.name}: acks ${ack.fsynced ? 'are' : 'are NOT'} fsynced: ${ack.evidence}`);
    const workloads = await runWorkloads(system, plan, log);
    const rss = await sampler.stop();
    return { ...identity, startError: null, ack, ackCheck, ...workloads, rssPeakBytes: rss.peakBytes, rssPeakBytesByPid: rss.peakBytesByPid };
  } finally {
    await sampler.stop();
    await stopQuietly(system, log);
  }
}

async function stopQuietly(system: SystemUnderTest, log: (line: string) => void): Promise<void> {
  try {
    await system.stop();
    log(`${system.name}: stopped`);
  } catch (error) {
    log(`${system.name}: stop failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
