import {
  assignTaskIds,
  MEDIA_ITEM_CODES,
  mediaIdOfItem,
  mediaOptionsOf,
  type ObjectType,
  workKind,
} from '@refreshq/domain';
import type { ClaimedBatch } from '@refreshq/store';
import { UpstreamError, type VodClient } from '@refreshq/vod-client';
import { MEDIA_JOB_PREFIX } from '@refreshq/store';

/** What an accepting answer of any submitting action comes to, item by item. */
export interface AcceptedCall {
  requestId: string;
  /** Per item: its task id (or its media job's tracking id). */
  taskIds: string[];
  /** Items the accepted call refused one by one (index → code): media ids forbidden or unknown. */
  refused: Map<number, string>;
  refusedMessage: string;
}

/**
 * The upstream call a batch's pool type makes (work-kinds.ts): RefreshVodObjectCaches with its
 * object type and Force, PreloadVodObjectCaches, or RefreshMediaPlayUrls with the options its
 * pool domain carries. Each answer is brought to the same shape, so the submitter reacts alike.
 */
export function callFor(vod: VodClient, batch: ClaimedBatch): (paths: string[]) => Promise<AcceptedCall> {
  const kind = workKind(batch.objectType);
  switch (kind.action) {
    case 'RefreshVodObjectCaches':
      return async (paths) => {
        const answer = await vod.refreshObjectCaches(paths, kind.budget as ObjectType, kind.force);
        return accepted(answer.requestId, assignTaskIds(paths, answer.refreshTaskId));
      };
    case 'PreloadVodObjectCaches':
      return async (paths) => {
        const answer = await vod.preloadObjectCaches(paths);
        return accepted(answer.requestId, assignTaskIds(paths, answer.preloadTaskId));
      };
    case 'RefreshMediaPlayUrls': {
      const options = mediaOptionsOf(batch.domain);
      return async (items) => {
        // Written by the admitter from checked options: a batch without them is a bug of ours.
        if (!options)
          throw new UpstreamError('a media batch without its options', 'refused', 'MissingParameter');
        const ids = items.map(mediaIdOfItem);
        const answer = await vod.refreshMediaPlayUrls(ids, options);
        const forbidden = new Set(answer.forbiddenMediaIds);
        const unknown = new Set(answer.nonExistMediaIds);
        const refused = new Map<number, string>();
        ids.forEach((id, index) => {
          if (forbidden.has(id)) refused.set(index, MEDIA_ITEM_CODES.forbidden);
          else if (unknown.has(id)) refused.set(index, MEDIA_ITEM_CODES.nonExistent);
        });
        return {
          requestId: answer.requestId,
          taskIds: ids.map(() => MEDIA_JOB_PREFIX + answer.mediaRefreshJobId),
          refused,
          refusedMessage:
            'the upstream listed this id in ForbiddenMediaIds (the account may not operate on it) or NonExistMediaIds (no such media)',
        };
      };
    }
  }
}

function accepted(requestId: string, taskIds: string[]): AcceptedCall {
  return { requestId, taskIds, refused: new Map(), refusedMessage: '' };
}
