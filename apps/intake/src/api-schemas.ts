import { caseInsensitive } from '@refreshq/config';
import { ACTIONS, OBJECT_TYPES, PATH_STATES, PRIORITIES, REQUEST_STATES } from '@refreshq/domain';
import { z } from 'zod';
import { mediaFields } from './media-body.js';

/**
 * The zod schemas of the HTTP API: those that check what callers send (bodies and queries), and
 * those that describe the answers. GET /openapi.json is generated from these (openapi.ts), so the
 * description cannot drift from the checks; the tests hold the answers to the answer schemas.
 * `meta({ id })` names a schema as a component of the document.
 */

const objectType = caseInsensitive(OBJECT_TYPES, 'objectType');
const priority = caseInsensitive(PRIORITIES, 'priority');

/** The body of POST /v1/refreshes (refresh-body.ts adds the checks zod cannot say: paths, callback target). */
export const refreshBodySchema = z
  .object({
    paths: z
      .array(z.string({ error: 'each path must be a string' }), {
        error: 'paths must be an array of strings',
      })
      .optional()
      .meta({
        description: 'URLs (File) or directories ending in `/` (Directory); at most MAX_PATHS_PER_REQUEST',
      }),
    objectPath: z
      .string({ error: 'objectPath must be a string of paths separated by newlines' })
      .optional()
      .meta({ description: 'the paths as one string separated by newlines, like the upstream parameter' }),
    objectType: objectType.default('File').meta({ description: 'case-insensitive' }),
    priority: priority.default('normal').meta({ description: 'the lane; case-insensitive' }),
    callbackUrl: z
      .string({ error: 'callbackUrl must be a string' })
      .max(2048, 'callbackUrl must be at most 2048 characters')
      .optional()
      .meta({ description: 'POSTed the request status, signed, once every path has ended' }),
    action: caseInsensitive(ACTIONS, 'action').default('refresh').meta({
      description:
        '`refresh` (RefreshVodObjectCaches) or `preload` (PreloadVodObjectCaches); case-insensitive',
    }),
    force: z
      .boolean({ error: 'force must be true or false' })
      .optional()
      .meta({ description: 'Force=true on RefreshVodObjectCaches; only for action refresh of paths' }),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    then: z
      .enum(['preload'], { error: 'then must be "preload"' })
      .optional()
      .meta({ description: 'prefetch each file once its refresh completes; only for a refresh of files' }),
    ...mediaFields,
  })
  .strict()
  .meta({ id: 'RefreshBody' });

/** POST /v1/refreshes/:id/retry: which of the request's failed and rejected paths, and in which lane. */
export const retryBodySchema = z
  .object({
    paths: z
      .array(z.string({ error: 'each path must be a string' }), {
        error: 'paths must be an array of strings',
      })
      .min(1, 'paths, when sent, must name at least one path')
      .optional()
      .meta({ description: "some of the request's failed or rejected paths; default: all of them" }),
    priority: priority.optional().meta({ description: "the lane; default: the request's" }),
  })
  .strict()
  .meta({ id: 'RetryBody' });

export const pauseBodySchema = z
  .object({
    reason: z
      .string({ error: 'reason must be a string' })
      .max(200, 'reason must be at most 200 characters')
      .optional()
      .meta({ description: 'shown with the pause, e.g. an incident number' }),
  })
  .strict()
  .meta({ id: 'PauseBody' });

/** Express hands a repeated query parameter over as an array: one comma-separated list. */
const list = (value: unknown) => (Array.isArray(value) ? value.join(',') : value);
const single = (name: string) => (value: unknown, context: z.RefinementCtx) => {
  if (!Array.isArray(value)) return value;
  context.addIssue({ code: 'custom', message: `${name} must be given once` });
  return z.NEVER;
};
const singleString = (name: string) =>
  z.preprocess(single(name), z.string({ error: `${name} must be a string` }));

const requestStates = z.preprocess(
  list,
  z
    .string()
    .transform((text) => text.split(',').map((state) => state.trim().toLowerCase()))
    .pipe(
      z.array(
        z.enum(REQUEST_STATES as [string, ...string[]], {
          error: `state must be one or more of ${REQUEST_STATES.join(', ')}`,
        }),
      ),
    ),
);

/** An ISO 8601 time or epoch milliseconds. */
const time = (name: string) =>
  z.preprocess(
    single(name),
    z.string().transform((text, context) => {
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
      if (!Number.isFinite(ms)) {
        context.addIssue({
          code: 'custom',
          message: `${name} must be an ISO 8601 time or epoch milliseconds`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  );

export const listQuerySchema = z
  .object({
    state: requestStates
      .optional()
      .meta({ description: `request states, comma-separated: ${REQUEST_STATES.join(', ')}`, type: 'string' }),
    since: time('since').optional().meta({
      description: 'only requests received at or after this time (ISO 8601 or epoch ms)',
      type: 'string',
    }),
    cursor: singleString('cursor').optional().meta({ description: '`nextCursor` of the previous page' }),
    limit: z
      .preprocess(single('limit'), z.coerce.number().int().min(1).max(200))
      .default(50)
      .meta({ description: 'requests per page (1 to 200)' }),
  })
  .strict();

export const lookupQuerySchema = z
  .object({
    url: singleString('url').meta({ description: 'the path, normalised as intake normalises paths' }),
    objectType: z
      .preprocess(single('objectType'), objectType)
      .optional()
      .meta({ description: 'default: whichever of File and Directory was asked for last' }),
  })
  .strict();

// ----- Answers

const isoTime = z.string().meta({ format: 'date-time' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .array(
          z.object({
            index: z.number().int().optional(),
            path: z.string().optional(),
            template: z.string().optional(),
            reason: z.string(),
            message: z.string(),
          }),
        )
        .optional(),
    }),
  })
  .meta({ id: 'Error' });

export const acceptedSchema = z
  .object({
    id: z.string(),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    objectType: z.enum(OBJECT_TYPES).optional().meta({ description: 'absent for a request by media ids' }),
    priority: z.enum(PRIORITIES),
    action: z.enum(ACTIONS),
    force: z.boolean().optional(),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    then: z.literal('preload').optional(),
    mediaIds: z.array(z.string()).optional(),
    state: z.literal('queued'),
    replayed: z.boolean(),
    statusUrl: z.string(),
  })
  .meta({ id: 'Accepted' });

export const retryAcceptedSchema = acceptedSchema
  .extend({
    retryOf: z.string().meta({ description: 'the request retried' }),
    paths: z.array(z.string()).meta({ description: 'the paths queued again' }),
  })
  .meta({ id: 'RetryAccepted' });

export const hookAnswerSchema = z
  .object({
    id: z.string().optional(),
    accepted: z.number().int(),
    hook: z.string(),
    event: z.string().optional(),
    reason: z.enum(['event_filtered', 'event_unknown', 'no_paths']).optional(),
    message: z.string().optional(),
  })
  .loose()
  .meta({ id: 'HookAnswer', description: 'as for POST /v1/refreshes, or accepted 0 with a reason' });

const pathState = z.enum(PATH_STATES);
const counts = z.object(Object.fromEntries(PATH_STATES.map((state) => [state, z.number().int()])));

const stepFields = {
  state: pathState,
  taskId: z.string().optional(),
  upstreamRequestId: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  submittedAt: isoTime.optional(),
  completedAt: isoTime.optional(),
  updatedAt: isoTime,
};

export const pathViewSchema = z
  .object({
    path: z.string(),
    ...stepFields,
    coveredBy: z.string().optional().meta({ description: 'the directory whose refresh covers this path' }),
    coverReason: z
      .string()
      .optional()
      .meta({ description: 'why refreshq promoted the covering directory itself (docs/scarcity.md)' }),
    retriedBy: z.string().optional().meta({ description: 'the latest request that retried this path' }),
    preload: z
      .object(stepFields)
      .optional()
      .meta({ description: '`then: "preload"`: the prefetch queued once the refresh completed' }),
  })
  .meta({ id: 'PathStatus' });

export const mediaViewSchema = z
  .object(stepFields)
  .omit({ taskId: true })
  .extend({
    mediaId: z.string(),
    mediaRefreshJobId: z.string().optional(),
    playUrls: z.array(
      z.object({
        url: z.string(),
        taskId: z.string().optional(),
        state: z.string(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
  })
  .meta({ id: 'MediaStatus' });

export const requestSummarySchema = z
  .object({
    id: z.string(),
    state: z.enum(REQUEST_STATES as [string, ...string[]]),
    objectType: z.enum(OBJECT_TYPES).optional().meta({ description: 'absent for a request by media ids' }),
    priority: z.enum(PRIORITIES),
    action: z.enum(ACTIONS),
    force: z.boolean().optional(),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    then: z.literal('preload').optional(),
    receivedAt: isoTime,
    counts,
    retryOf: z.string().optional(),
    retriedBy: z.array(z.string()).optional(),
  })
  .meta({ id: 'RequestSummary' });

export const requestViewSchema = requestSummarySchema
  .extend({
    estimatedSubmitAt: isoTime.nullable().optional(),
    pressure: z
      .boolean()
      .optional()
      .meta({ description: "the request's type is under pressure (docs/scarcity.md)" }),
    paused: z.boolean().meta({ description: 'submitting is paused by an operator (intake still accepts)' }),
    paths: z.array(pathViewSchema),
    media: z.array(mediaViewSchema).optional().meta({ description: 'a request by media ids: one per id' }),
  })
  .meta({ id: 'RequestStatus' });

export const requestListSchema = z
  .object({
    refreshes: z.array(requestSummarySchema),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` for the next page; null at the end' }),
  })
  .meta({ id: 'RequestList' });

export const pathLookupSchema = z
  .object({
    path: z.string(),
    objectType: z.enum(OBJECT_TYPES),
    state: pathState.meta({ description: 'its state on the newest request that asked for it' }),
    requestId: z.string().optional(),
    coveredBy: z.string().optional(),
    taskId: z.string().optional(),
    lastSubmission: z
      .object({
        at: isoTime,
        requestId: z.string(),
        taskId: z.string().optional(),
        upstreamRequestId: z.string().optional(),
        coveredBy: z.string().optional(),
      })
      .nullable(),
    lastCompletion: z
      .object({
        state: z.enum(['complete', 'failed', 'rejected']),
        at: isoTime,
        requestId: z.string(),
        taskId: z.string().optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
        coveredBy: z.string().optional(),
      })
      .nullable(),
    requests: z.array(z.object({ id: z.string(), receivedAt: isoTime, state: pathState })),
  })
  .meta({ id: 'PathLookup' });

export const cancelResultSchema = z
  .object({
    id: z.string(),
    state: z.enum(REQUEST_STATES as [string, ...string[]]),
    cancelled: z.array(z.string()),
    alreadyGone: z.array(
      z.object({
        path: z.string(),
        state: z.union([pathState, z.literal('in_flight')]).meta({
          description: '`in_flight`: claimed for a call being made now',
        }),
      }),
    ),
  })
  .meta({ id: 'CancelResult' });

export const pauseViewSchema = z
  .object({
    paused: z.boolean(),
    since: isoTime.optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'Pause' });

const budget = z.object({ used: z.number(), budget: z.number(), left: z.number() });
const hold = z.object({ until: isoTime, reason: z.string() }).nullable();

export const quotaViewSchema = z
  .object({
    at: isoTime
      .nullable()
      .meta({ description: 'when a worker last published the figures; null: none lately' }),
    resetsAt: isoTime.nullable().meta({ description: 'when the quota day ends' }),
    quota: z.partialRecord(
      z.enum(OBJECT_TYPES),
      z.object({
        day: budget,
        minute: budget,
        hold,
        pressure: z.boolean().optional().meta({ description: 'more is pending than today can still grant' }),
      }),
    ),
    callsHold: hold,
    backlog: z.record(
      z.enum(OBJECT_TYPES),
      z.record(
        z.enum(PRIORITIES),
        z.object({ paths: z.number().int(), estimatedSubmitAt: isoTime.nullable() }),
      ),
    ),
    breaker: z.object({
      open: z.boolean(),
      code: z.string().optional(),
      probeAt: isoTime.optional(),
    }),
    pause: pauseViewSchema,
  })
  .meta({ id: 'Quota' });

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z
  .object({ status: z.literal('ready'), paused: z.boolean(), pausedSince: isoTime.optional() })
  .meta({ id: 'Ready' });
