import { z } from 'zod';

/**
 * The emulated account's media (videos and audio) and their play URLs, registered through the
 * control API, and the refresh jobs RefreshMediaPlayUrls creates for them. Which play URLs a job
 * takes follows the filters of the call (pure: selectPlayUrls).
 */

export const MEDIA_FORMATS = ['mp4', 'm3u8', 'mp3', 'flv', 'webm', 'ts'] as const;
export const MEDIA_DEFINITIONS = ['FD', 'LD', 'SD', 'HD', 'OD', '2K', '4K', 'SQ', 'HQ', 'AUTO'] as const;
export const STREAM_TYPES = ['video', 'audio'] as const;

export const playUrlSchema = z
  .object({
    url: z.string().regex(/^https?:\/\/[^\s,]+$/, 'an http(s) URL without white space or commas'),
    format: z.enum(MEDIA_FORMATS),
    definition: z.enum(MEDIA_DEFINITIONS),
    streamType: z.enum(STREAM_TYPES).default('video'),
    /** Transcode generation: ResultType=Single takes the highest per definition and format. */
    version: z.number().int().min(0).default(0),
    /** The TS segments of an m3u8, in order (SliceFlag); default: `<url without .m3u8>-00001.ts`, … */
    segments: z.array(z.string().regex(/^https?:\/\/[^\s,]+$/)).optional(),
  })
  .strict();

export const mediaSpecSchema = z
  .object({
    playUrls: z.array(playUrlSchema).default([]),
    /** The account may not operate on it: ForbiddenMediaIds. */
    forbidden: z.boolean().default(false),
  })
  .strict();

export type PlayUrl = z.output<typeof playUrlSchema>;
export type MediaSpec = z.input<typeof mediaSpecSchema>;
export interface MediaRecord {
  mediaId: string;
  playUrls: PlayUrl[];
  forbidden: boolean;
}

export interface PlayUrlFilter {
  formats?: readonly string[];
  definitions?: readonly string[];
  streamTypes?: readonly string[];
  resultType: 'Single' | 'Multiple';
  sliceFlag: boolean;
  sliceCount: number;
}

function segmentsOf(entry: PlayUrl, count: number): string[] {
  if (entry.segments) return entry.segments.slice(0, count);
  const base = entry.url.replace(/\.m3u8(\?.*)?$/, '');
  return Array.from({ length: count }, (_v, i) => `${base}-${String(i + 1).padStart(5, '0')}.ts`);
}

/**
 * The play URLs a job submits for one media: those matching the formats, definitions and stream
 * types (absent = all); with ResultType Single only the newest transcode per definition and
 * format; with SliceFlag, after each m3u8 its first SliceCount TS segments.
 */
export function selectPlayUrls(record: MediaRecord, filter: PlayUrlFilter): string[] {
  const matches = record.playUrls.filter(
    (entry) =>
      (!filter.formats || filter.formats.includes(entry.format)) &&
      (!filter.definitions || filter.definitions.includes(entry.definition)) &&
      (!filter.streamTypes || filter.streamTypes.includes(entry.streamType)),
  );
  let chosen = matches;
  if (filter.resultType === 'Single') {
    const newest = new Map<string, PlayUrl>();
    for (const entry of matches) {
      const key = `${entry.definition}|${entry.format}`;
      const seen = newest.get(key);
      if (!seen || entry.version >= seen.version) newest.set(key, entry);
    }
    chosen = matches.filter((entry) => newest.get(`${entry.definition}|${entry.format}`) === entry);
  }
  const urls: string[] = [];
  for (const entry of chosen) {
    urls.push(entry.url);
    if (filter.sliceFlag && entry.format === 'm3u8') urls.push(...segmentsOf(entry, filter.sliceCount));
  }
  return [...new Set(urls)];
}

/** One media of a job: what its play URLs came to, decided when the call was accepted. */
export interface MediaJobEntry {
  mediaId: string;
  /** Final status, shown once the job has had `mediaSubmitMs` to submit the play URLs. */
  status: 'success' | 'fail';
  playUrls: string[];
  taskIds: string[];
  errorCode?: string;
  errorMessage?: string;
}

export interface MediaJob {
  mediaRefreshJobId: string;
  requestId: string;
  createdAtMs: number;
  taskType: 'Refresh' | 'Preload';
  filterPolicy: string;
  userData?: string;
  entries: MediaJobEntry[];
  forbiddenMediaIds: string[];
  nonExistMediaIds: string[];
  /** The media ids the call carried (for the lost-answer fault and the log). */
  paths: string[];
  answer: 'sent' | 'lost';
}

/** The registry of media and the jobs made for them. */
export class MediaStore {
  private readonly records = new Map<string, MediaRecord>();
  private readonly jobs = new Map<string, MediaJob>();
  private seq = 0;

  constructor(private readonly initial: Readonly<Record<string, MediaSpec>> = {}) {
    this.reset();
  }

  reset(): void {
    this.records.clear();
    this.jobs.clear();
    this.seq = 0;
    for (const [mediaId, spec] of Object.entries(this.initial)) this.register(mediaId, spec);
  }

  register(mediaId: string, spec: MediaSpec): MediaRecord {
    const parsed = mediaSpecSchema.parse(spec);
    const record = { mediaId, playUrls: parsed.playUrls, forbidden: parsed.forbidden };
    this.records.set(mediaId, record);
    return record;
  }

  remove(mediaId: string): boolean {
    return this.records.delete(mediaId);
  }

  get(mediaId: string): MediaRecord | undefined {
    return this.records.get(mediaId);
  }

  list(): MediaRecord[] {
    return [...this.records.values()].map((record) => structuredClone(record));
  }

  /** A job id like Alibaba's: 32 hex characters. */
  nextJobId(): string {
    this.seq += 1;
    return `${'e'.repeat(8)}${this.seq.toString(16).padStart(24, '0')}`;
  }

  addJob(job: MediaJob): void {
    this.jobs.set(job.mediaRefreshJobId, job);
  }

  job(id: string): MediaJob | undefined {
    return this.jobs.get(id);
  }

  allJobs(): MediaJob[] {
    return [...this.jobs.values()].map((job) => structuredClone(job));
  }
}
