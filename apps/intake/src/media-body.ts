import {
  canonicalMediaOptions,
  MEDIA_DEFINITIONS,
  MEDIA_FORMATS,
  MEDIA_ID,
  MEDIA_RESULT_TYPES,
  MEDIA_STREAM_TYPES,
  type MediaOptions,
  SLICE_COUNT_RANGE,
  type WorkAction,
} from '@refreshq/domain';
import { z } from 'zod';
import { ApiError, type ErrorDetail } from './api-error.js';
import { preview } from './validate.js';

/**
 * The media half of a POST /v1/refreshes body (issue #16): `mediaIds` instead of paths, with the
 * options of RefreshMediaPlayUrls. Each option is checked here against the values the upstream
 * takes, so a bad one costs a clear 400, never a call.
 */

/** A list option: an array of strings or one comma-separated string, matched case-insensitively. */
const listOf = <const T extends readonly [string, ...string[]]>(values: T, field: string) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '')
        : value,
    z
      .array(
        z.preprocess(
          (item) =>
            typeof item === 'string'
              ? (values.find((allowed) => allowed.toLowerCase() === item.toLowerCase()) ?? item)
              : item,
          z.enum(values, { error: `${field} may hold ${values.join(', ')}` }),
        ),
        { error: `${field} must be an array of strings or a comma-separated string` },
      )
      .max(values.length * 2, `${field} lists too many values`),
  );

const MAX_USER_DATA = 1024;

/** The media fields of the body schema (refresh-body.ts spreads them in). */
export const mediaFields = {
  mediaIds: z
    .array(z.string({ error: 'each media id must be a string' }), {
      error: 'mediaIds must be an array of strings',
    })
    .optional(),
  formats: listOf(MEDIA_FORMATS, 'formats').optional(),
  definitions: listOf(MEDIA_DEFINITIONS, 'definitions').optional(),
  streamType: listOf(MEDIA_STREAM_TYPES, 'streamType').optional(),
  resultType: z
    .preprocess(
      (value) =>
        typeof value === 'string'
          ? (MEDIA_RESULT_TYPES.find((allowed) => allowed.toLowerCase() === value.toLowerCase()) ?? value)
          : value,
      z.enum(MEDIA_RESULT_TYPES, { error: 'resultType must be Single or Multiple' }),
    )
    .optional(),
  sliceFlag: z.boolean({ error: 'sliceFlag must be true or false' }).optional(),
  sliceCount: z
    .number({ error: 'sliceCount must be a whole number' })
    .int('sliceCount must be a whole number')
    .min(SLICE_COUNT_RANGE.min, `sliceCount must be ${SLICE_COUNT_RANGE.min} to ${SLICE_COUNT_RANGE.max}`)
    .max(SLICE_COUNT_RANGE.max, `sliceCount must be ${SLICE_COUNT_RANGE.min} to ${SLICE_COUNT_RANGE.max}`)
    .optional(),
  userData: z
    .union([z.string(), z.record(z.string(), z.unknown())], {
      error: 'userData must be a JSON object (or its text)',
    })
    .transform((value, ctx) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        ctx.addIssue({ code: 'custom', message: 'userData must be a JSON object (or its text)' });
        return z.NEVER;
      }
      if (text.length > MAX_USER_DATA) {
        ctx.addIssue({
          code: 'custom',
          message: `userData must be at most ${MAX_USER_DATA} characters of JSON`,
        });
        return z.NEVER;
      }
      return text;
    })
    .optional(),
};

export const MEDIA_OPTION_FIELDS = [
  'formats',
  'definitions',
  'streamType',
  'resultType',
  'sliceFlag',
  'sliceCount',
  'userData',
] as const;

type MediaFields = {
  [K in keyof typeof mediaFields]?: z.output<(typeof mediaFields)[K]>;
};

/** The count before any per-element work: a huge list costs one comparison. */
export function checkMediaCount(sent: unknown, max: number): void {
  if (Array.isArray(sent) && sent.length > max)
    throw new ApiError(400, 'too_many_media_ids', `at most ${max} media ids per request; split the request`);
}

export interface CheckedMedia {
  ids: string[];
  options: MediaOptions;
  duplicates: number;
}

/**
 * Checks the media ids and builds the options of a request by media ids. `action` picks the
 * TaskType: refresh → Refresh, preload → Preload.
 */
export function checkMedia(fields: MediaFields, action: WorkAction): CheckedMedia {
  const sent = fields.mediaIds ?? [];
  if (sent.length === 0) throw new ApiError(400, 'empty_media_ids', 'at least one media id is required');
  if (fields.sliceCount !== undefined && fields.sliceFlag !== true)
    throw new ApiError(400, 'conflicting_fields', 'sliceCount applies only with sliceFlag: true');
  const problems: ErrorDetail[] = [];
  const seen = new Set<string>();
  sent.forEach((id, index) => {
    if (!MEDIA_ID.test(id))
      problems.push({
        index,
        mediaId: preview(id, 80),
        reason: 'malformed_media_id',
        message: 'a media id is 1 to 64 of A-Z a-z 0-9 _ - (VOD ids are 32 hex characters)',
      });
    else seen.add(id);
  });
  if (problems.length > 0)
    throw new ApiError(
      400,
      'invalid_media_id',
      `${problems.length} media id(s) are invalid; nothing was queued`,
      problems.slice(0, 100),
    );
  const options = canonicalMediaOptions({
    taskType: action === 'preload' ? 'Preload' : 'Refresh',
    ...(fields.formats ? { formats: fields.formats } : {}),
    ...(fields.definitions ? { definitions: fields.definitions } : {}),
    ...(fields.streamType ? { streamTypes: fields.streamType } : {}),
    ...(fields.resultType ? { resultType: fields.resultType } : {}),
    ...(fields.sliceFlag ? { sliceFlag: true } : {}),
    ...(fields.sliceCount !== undefined ? { sliceCount: fields.sliceCount } : {}),
    ...(fields.userData !== undefined ? { userData: fields.userData } : {}),
  });
  return { ids: [...seen], options, duplicates: sent.length - seen.size };
}
