import type { ObjectType, RefreshRequest } from './refresh-types.js';

/**
 * The kinds of cache work refreshq does (issue #16), each its own pool type, so coalescing,
 * lanes, leases and quota stay per kind without the pool scripts knowing more than a type string:
 *
 * | type              | upstream action                                   | budget family | calls scope |
 * | ----------------- | ------------------------------------------------- | ------------- | ----------- |
 * | `File`            | RefreshVodObjectCaches ObjectType=File            | `File`        | `refresh`   |
 * | `Directory`       | RefreshVodObjectCaches ObjectType=Directory       | `Directory`   | `refresh`   |
 * | `File!force`      | RefreshVodObjectCaches File, Force=true           | `File`        | `refresh`   |
 * | `Directory!force` | RefreshVodObjectCaches Directory, Force=true      | `Directory`   | `refresh`   |
 * | `Preload`         | PreloadVodObjectCaches                            | `Preload`     | `preload`   |
 * | `Media`           | RefreshMediaPlayUrls TaskType=Refresh             | `File`        | `media`     |
 * | `Media!preload`   | RefreshMediaPlayUrls TaskType=Preload             | `Preload`     | `media`     |
 *
 * A pending forced refresh of a path and a plain one are two things (two types): a batch never
 * mixes Force values, and neither covers the other. Only the plain `Directory` covers and absorbs
 * (the pool's directory semantics); a forced directory is refreshed as one item of its own.
 */
export const WORK_TYPES = [
  'File',
  'Directory',
  'File!force',
  'Directory!force',
  'Preload',
  'Media',
  'Media!preload',
] as const;
export type WorkType = (typeof WORK_TYPES)[number];

/** What a request asks the upstream to do with its paths or media: refresh (default) or prefetch. */
export const ACTIONS = ['refresh', 'preload'] as const;
export type WorkAction = (typeof ACTIONS)[number];

/** The daily and per-minute budgets a type spends: URL refresh, directory refresh, or prefetch. */
export const BUDGET_FAMILIES = ['File', 'Directory', 'Preload'] as const;
export type BudgetFamily = (typeof BUDGET_FAMILIES)[number];

/** Which upstream action a type's calls are counted against (calls per second, throttling holds). */
export const CALL_SCOPES = ['refresh', 'preload', 'media'] as const;
export type CallScope = (typeof CALL_SCOPES)[number];

export type UpstreamAction = 'RefreshVodObjectCaches' | 'PreloadVodObjectCaches' | 'RefreshMediaPlayUrls';

export interface WorkKind {
  type: WorkType;
  action: UpstreamAction;
  budget: BudgetFamily;
  calls: CallScope;
  /** RefreshVodObjectCaches' Force parameter. */
  force: boolean;
  /** The pool's directory semantics (covering, absorbing) apply: only the plain Directory. */
  covers: boolean;
  /** How DescribeVodRefreshTasks names this type's tasks (for look-ups and polling). */
  taskObjectType: 'file' | 'directory' | 'preload';
}

const KINDS: Record<WorkType, WorkKind> = {
  File: kind('File', 'RefreshVodObjectCaches', 'File', 'refresh', false, 'file'),
  Directory: kind('Directory', 'RefreshVodObjectCaches', 'Directory', 'refresh', false, 'directory'),
  'File!force': kind('File!force', 'RefreshVodObjectCaches', 'File', 'refresh', true, 'file'),
  'Directory!force': kind(
    'Directory!force',
    'RefreshVodObjectCaches',
    'Directory',
    'refresh',
    true,
    'directory',
  ),
  Preload: kind('Preload', 'PreloadVodObjectCaches', 'Preload', 'preload', false, 'preload'),
  Media: kind('Media', 'RefreshMediaPlayUrls', 'File', 'media', false, 'file'),
  'Media!preload': kind('Media!preload', 'RefreshMediaPlayUrls', 'Preload', 'media', false, 'preload'),
};

function kind(
  type: WorkType,
  action: UpstreamAction,
  budget: BudgetFamily,
  calls: CallScope,
  force: boolean,
  taskObjectType: WorkKind['taskObjectType'],
): WorkKind {
  return { type, action, budget, calls, force, covers: type === 'Directory', taskObjectType };
}

export const workKind = (type: WorkType): WorkKind => KINDS[type];

/**
 * The order a lane's types are claimed in: directories first (a directory in flight covers files
 * admitted under it), then files, then media; prefetches last, as they only warm what is there.
 */
export const CLAIM_TYPE_ORDER: readonly WorkType[] = [
  'Directory',
  'Directory!force',
  'File',
  'File!force',
  'Media',
  'Preload',
  'Media!preload',
];

/**
 * Quota units one item of a type is granted before its call: 1 for a path; for a media id the
 * play URLs it is expected to expand to (MEDIA_PLAY_URLS_PER_ID). What a media job really
 * submitted is charged (or given back) once GetMediaRefreshJobs reports it.
 */
export const unitsPerItem = (type: WorkType, mediaPlayUrlsPerId: number): number =>
  KINDS[type].action === 'RefreshMediaPlayUrls' ? Math.max(1, mediaPlayUrlsPerId) : 1;

export const isWorkType = (value: unknown): value is WorkType =>
  typeof value === 'string' && (WORK_TYPES as readonly string[]).includes(value);

export const isMediaType = (type: WorkType): boolean => KINDS[type].action === 'RefreshMediaPlayUrls';

/** What a request asks for, as far as choosing its pool type goes. */
export interface WorkSpec {
  action?: WorkAction;
  objectType: ObjectType;
  force?: boolean;
  /** Set for a request by media ids. */
  media?: { options: MediaOptions };
}

/** The pool type a request's items go into. */
export function workTypeOf(spec: WorkSpec): WorkType {
  // A media request's task type is in its options (intake sets it from the action).
  if (spec.media) return spec.media.options.taskType === 'Preload' ? 'Media!preload' : 'Media';
  if (spec.action === 'preload') return 'Preload';
  return spec.force ? `${spec.objectType}!force` : spec.objectType;
}

/**
 * The pool groups pending items by type, lane and "domain": a batch is one domain's. For the
 * plain refresh types that is the host, as always. Every other file-like type gets a domain of
 * its own (`Preload@cdn.example.com`), so the pool's per-domain indexes (the lex index of pending
 * files, the pending and in-flight directories that cover them) only ever hold one kind of work.
 * A media type's domain is its canonical options, so one call carries one set of options.
 */
export function poolDomain(type: WorkType, host: string): string {
  return type === 'File' || type === 'Directory' ? host : `${type}@${host}`;
}

/** The host of a path's pool domain (poolDomain's inverse for path types). */
export function hostOfPoolDomain(domain: string): string {
  const at = domain.lastIndexOf('@');
  return at === -1 ? domain : domain.slice(at + 1);
}

/** One item of a request as the pool holds it: its key (a path, or a media item key) and its pool domain. */
export interface PoolItem {
  path: string;
  domain: string;
}

/**
 * The pool type and items of a request. `hosts` are its paths' hosts (intake computed them while
 * checking), in the order of `paths`; a media request's items are its ids with their options.
 */
export function poolItemsOf(
  request: Pick<RefreshRequest, 'action' | 'objectType' | 'force' | 'media' | 'paths'>,
  hosts: readonly string[],
): { type: WorkType; items: PoolItem[] } {
  const type = workTypeOf(request);
  if (request.media) {
    const { ids, options } = request.media;
    const domain = mediaPoolDomain(options);
    return { type, items: ids.map((id) => ({ path: mediaItemKey(id, options), domain })) };
  }
  return {
    type,
    items: request.paths.map((path, index) => ({ path, domain: poolDomain(type, hosts[index] ?? '') })),
  };
}

// ---- Media ids and the options of RefreshMediaPlayUrls ----

export const MEDIA_FORMATS = ['mp4', 'm3u8', 'mp3', 'flv', 'webm', 'ts'] as const;
/** VOD's definitions (Parameters for media assets, "Definition"). */
export const MEDIA_DEFINITIONS = ['FD', 'LD', 'SD', 'HD', 'OD', '2K', '4K', 'SQ', 'HQ', 'AUTO'] as const;
export const MEDIA_STREAM_TYPES = ['video', 'audio'] as const;
export const MEDIA_RESULT_TYPES = ['Single', 'Multiple'] as const;
/** SliceCount: the first N TS segments of an m3u8 (the upstream's range, default 5). */
export const SLICE_COUNT_RANGE = { min: 1, max: 20, default: 5 } as const;
/** RefreshMediaPlayUrls takes at most 20 media ids per call. */
export const MAX_MEDIA_IDS_PER_CALL = 20;
/** A VOD media (video or audio) id: 32 hex characters in practice; kept loose, but key-safe. */
export const MEDIA_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface MediaOptions {
  taskType: 'Refresh' | 'Preload';
  /** Distinct, sorted; absent = every format. */
  formats?: string[];
  definitions?: string[];
  streamTypes?: string[];
  resultType?: 'Single' | 'Multiple';
  sliceFlag?: boolean;
  /** Only with sliceFlag. */
  sliceCount?: number;
  /** A JSON object as text, passed through as UserData. */
  userData?: string;
}

/** The options in one canonical form: equal options give equal text, whatever order they came in. */
export function canonicalMediaOptions(options: MediaOptions): MediaOptions {
  const list = (values: string[] | undefined) =>
    values && values.length > 0 ? [...new Set(values)].sort() : undefined;
  const canonical: MediaOptions = { taskType: options.taskType };
  const formats = list(options.formats);
  const definitions = list(options.definitions);
  const streamTypes = list(options.streamTypes);
  if (formats) canonical.formats = formats;
  if (definitions) canonical.definitions = definitions;
  if (streamTypes) canonical.streamTypes = streamTypes;
  if (options.resultType && options.resultType !== 'Single') canonical.resultType = options.resultType;
  if (options.sliceFlag) {
    canonical.sliceFlag = true;
    canonical.sliceCount = options.sliceCount ?? SLICE_COUNT_RANGE.default;
  }
  if (options.userData !== undefined && options.userData !== '') canonical.userData = options.userData;
  return canonical;
}

const MEDIA_DOMAIN_PREFIX = 'media:';

/** The pool domain of media items asked for with these options: the options themselves, readable back. */
export function mediaPoolDomain(options: MediaOptions): string {
  return MEDIA_DOMAIN_PREFIX + encodeURIComponent(JSON.stringify(canonicalMediaOptions(options)));
}

/** The options a media batch's pool domain carries, or undefined when it is not a media domain. */
export function mediaOptionsOf(domain: string): MediaOptions | undefined {
  if (!domain.startsWith(MEDIA_DOMAIN_PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(decodeURIComponent(domain.slice(MEDIA_DOMAIN_PREFIX.length))) as MediaOptions;
    return parsed.taskType === 'Refresh' || parsed.taskType === 'Preload' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** FNV-1a over UTF-16 code units with a seed (not for security). */
function fnv1a(text: string, seed: number): string {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** A short, stable digest of a text (16 hex characters): for keys, never for security. */
export const shortDigest = (text: string): string => fnv1a(text, 0x811c9dc5) + fnv1a(text, 0x01000193);

/**
 * A media item's key in the pool and in a request's status: the id and a digest of its options,
 * so one id asked for with other options is another item, and the same id with the same options
 * coalesces.
 */
export function mediaItemKey(mediaId: string, options: MediaOptions): string {
  return `${mediaId}:${shortDigest(JSON.stringify(canonicalMediaOptions(options)))}`;
}

/** The media id of a media item key. */
export function mediaIdOfItem(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(0, colon);
}
