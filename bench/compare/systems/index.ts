import type { SystemUnderTest } from '../system.js';
import { natsSystems } from './nats.js';
import { rabbitmqSystems } from './rabbitmq.js';
import { redisSystems } from './redis.js';
import { sluiceSystems } from './sluice.js';
import { sluiceClusterSystems } from './sluice-cluster.js';

/**
 * The registry of compared systems. Each factory returns its systems (not started), or [] with
 * one logged line when its server binary is missing. A peer is added with one line here, between
 * the standalone Sluice and the Sluice dev-cluster.
 */

/** Makes the systems of one product; logs a skip line (and returns []) when it cannot run here. */
export type SystemFactory = (log: (line: string) => void) => Promise<SystemUnderTest[]>;

export const SYSTEM_FACTORIES: readonly SystemFactory[] = [
  sluiceSystems,
  natsSystems,
  redisSystems,
  rabbitmqSystems,
  sluiceClusterSystems,
];

/**
 * Every registered system whose name is `only`, or else contains it (case-insensitive; all when
 * null), in the
 * order they run: replicas 1 before replicas 3, registry order otherwise. So Sluice standalone
 * comes first, then the peers, then the clusters (the RF 1 dev-cluster just before the R3 ones).
 */
export async function systemsInRunOrder(log: (line: string) => void, only: string | null): Promise<SystemUnderTest[]> {
  const made: SystemUnderTest[] = [];
  for (const factory of SYSTEM_FACTORIES) made.push(...await factory(log));
  const wanted = only === null ? made : selectByName(made, only);
  return orderForRun(wanted);
}

/** Replicas 1 before more, otherwise in the given order (a stable sort). */
export function orderForRun(systems: readonly SystemUnderTest[]): SystemUnderTest[] {
  return systems.map((system, index) => ({ system, index }))
    .sort((a, b) => Math.min(a.system.replicas, 2) - Math.min(b.system.replicas, 2) || a.index - b.index)
    .map(({ system }) => system);
}

/** The systems named exactly `only` if there are any, else those whose name contains it (case-insensitive). */
export function selectByName(systems: readonly SystemUnderTest[], only: string): SystemUnderTest[] {
  const wanted = only.toLowerCase();
  const exact = systems.filter((system) => system.name.toLowerCase() === wanted);
  return exact.length > 0 ? exact : systems.filter((system) => system.name.toLowerCase().includes(wanted));
}
