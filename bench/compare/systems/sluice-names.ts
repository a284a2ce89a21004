/** The row labels of the Sluice systems, which the targets table looks for. */
export const SLUICE_STANDALONE_NAME = 'Sluice';
export const SLUICE_CLUSTER_RF1_NAME = 'Sluice dev-cluster RF1 acks=1';
export const SLUICE_CLUSTER_RF3_NAME = 'Sluice dev-cluster RF3 acks=all';

/** True for every Sluice row (standalone or cluster); the others are peers. */
export function isSluiceName(name: string): boolean {
  return name === SLUICE_STANDALONE_NAME || name.startsWith(`${SLUICE_STANDALONE_NAME} `);
}
