import { SluiceError } from '../../errors/sluice-error.js';
import {
  NO_LEADER_EPOCH, UNDEFINED_END_OFFSET, UNDEFINED_LEADER_EPOCH,
  type EpochEndOffsetResult, type OffsetForLeaderEpochPartition, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse,
} from '../../protocol/index.js';
import type { LeaderPartition } from '../partition-manager.js';
import { OK, type HandlerContext } from './handler-context.js';

/**
 * Checks the leader epoch a request names (`currentLeaderEpoch` of Fetch and
 * OffsetForLeaderEpoch, KIP-320) against the epoch of the partition this broker leads: older is
 * FENCED_LEADER_EPOCH (the sender's metadata is stale), newer is UNKNOWN_LEADER_EPOCH (this
 * broker has not yet heard of the new leadership); NO_LEADER_EPOCH (-1) or absent is not checked.
 */
export function checkCurrentLeaderEpoch(currentLeaderEpoch: number | undefined, leader: LeaderPartition, where: string): void {
  if (currentLeaderEpoch === undefined || currentLeaderEpoch === NO_LEADER_EPOCH) return;
  if (currentLeaderEpoch < leader.leaderEpoch) {
    throw new SluiceError('FENCED_LEADER_EPOCH', `${where}: epoch ${currentLeaderEpoch} is older than the leader's ${leader.leaderEpoch}`);
  }
  if (currentLeaderEpoch > leader.leaderEpoch) {
    throw new SluiceError('UNKNOWN_LEADER_EPOCH', `${where}: epoch ${currentLeaderEpoch} is newer than the leader's ${leader.leaderEpoch}`);
  }
}

/**
 * OffsetForLeaderEpoch: for each partition this broker leads, where the asked epoch ends in its
 * log (the largest epoch <= it that the log knows, and the offset after that epoch's last
 * record). Only the leader answers (NOT_LEADER_OR_FOLLOWER otherwise); each partition succeeds
 * or fails on its own, a failed one carrying -1 and -1.
 */
export function handleOffsetForLeaderEpoch(context: HandlerContext, request: OffsetForLeaderEpochRequest): OffsetForLeaderEpochResponse {
  const partitions = request.partitions.map((asked): EpochEndOffsetResult => {
    const base = { topic: asked.topic, partition: asked.partition };
    try {
      return { ...base, errorCode: 0, ...epochEndOffset(context, asked) };
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      return { ...base, errorCode: error.code, leaderEpoch: UNDEFINED_LEADER_EPOCH, endOffset: UNDEFINED_END_OFFSET };
    }
  });
  return { ...OK, partitions };
}

function epochEndOffset(context: HandlerContext, asked: OffsetForLeaderEpochPartition): { leaderEpoch: number; endOffset: number } {
  const leader = context.partitions.leader(asked.topic, asked.partition);
  checkCurrentLeaderEpoch(asked.currentLeaderEpoch, leader, `${asked.topic}-${asked.partition}`);
  // The leader's own epoch ends at its log end, even before it has written anything in it (its
  // cache then names an older epoch last, unless beginLeaderEpoch recorded the new one).
  if (asked.leaderEpoch === leader.leaderEpoch) return { leaderEpoch: leader.leaderEpoch, endOffset: leader.log.logEndOffset };
  const { epoch, endOffset } = leader.log.endOffsetForEpoch(asked.leaderEpoch);
  return { leaderEpoch: epoch, endOffset };
}
