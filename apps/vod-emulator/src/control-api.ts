import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ACCOUNT_STATES } from './account.js';
import { DOMAIN_STATES } from './domains.js';
import type { EmulatorControls } from './emulator.js';
import { faultOptionsSchema } from './faults.js';
import { mediaSpecSchema } from './media.js';

/**
 * The control API for tests, under `/_emulator/` (not signed). JSON in, JSON out; a bad body
 * answers 400 `{"error":{"code":"BadRequest","message":...}}`. See README for the reference.
 */

const nonNegInt = z.number().int().min(0);
const limitOrNull = z.number().int().min(0).nullable();

const quotaPatchSchema = z
  .object({
    limits: z
      .object({
        urlsPerDay: nonNegInt,
        dirsPerDay: nonNegInt,
        urlsPerMinute: limitOrNull,
        dirsPerMinute: limitOrNull,
        maxUrlsPerCall: z.number().int().min(1),
        maxDirsPerCall: z.number().int().min(1),
        callsPerSecond: limitOrNull,
        describeCallsPerSecond: limitOrNull,
        preloadPerDay: nonNegInt,
        blockPerDay: nonNegInt,
        maxPreloadsPerCall: z.number().int().min(1),
        preloadQueueLimit: limitOrNull,
        preloadCallsPerSecond: limitOrNull,
        mediaCallsPerSecond: limitOrNull,
        mediaJobCallsPerSecond: limitOrNull,
      })
      .partial()
      .strict(),
    used: z
      .object({
        urlsToday: nonNegInt,
        dirsToday: nonNegInt,
        urlsThisMinute: nonNegInt,
        dirsThisMinute: nonNegInt,
        preloadsToday: nonNegInt,
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

const instant = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'not a time: give epoch ms or an ISO 8601 string' });
    return z.NEVER;
  }
  return ms;
});

const domainState = z.enum(DOMAIN_STATES);
const domainsSchema = z
  .object({
    ownsAll: z.boolean().optional(),
    domains: z.union([z.array(z.string().min(1)), z.record(z.string().min(1), domainState)]).optional(),
  })
  .strict();

const taskTimingSchema = z
  .object({
    pendingMs: z.number().min(0),
    completeAfterMs: z.number().min(0),
    failureRate: z.number().min(0).max(1),
    unlistedRate: z.number().min(0).max(1),
    seed: z.number().int(),
    mediaSubmitMs: z.number().min(0),
  })
  .partial()
  .strict();

class BadRequest extends Error {}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new BadRequest(z.prettifyError(result.error));
  return result.data;
}

export function createControlApi(emulator: EmulatorControls): Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));

  r.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  r.get('/state', (_req, res) => {
    res.json(emulator.snapshot());
  });
  r.post('/reset', (_req, res) => {
    emulator.reset();
    res.json(emulator.snapshot());
  });

  r.get('/submissions', (_req, res) => {
    res.json({ submissions: emulator.submissions() });
  });
  r.get('/preloads', (_req, res) => {
    res.json({ preloads: emulator.preloads() });
  });
  r.get('/media', (_req, res) => {
    res.json({ media: emulator.media() });
  });
  r.put('/media/:mediaId', (req, res) => {
    const mediaId = String(req.params.mediaId);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(mediaId))
      throw new BadRequest('a media id is 1 to 64 of A-Z a-z 0-9 _ -');
    res.json(emulator.registerMedia(mediaId, parse(mediaSpecSchema, req.body)));
  });
  r.delete('/media/:mediaId', (req, res) => {
    res.json({ removed: emulator.removeMedia(String(req.params.mediaId)) });
  });
  r.get('/media-jobs', (_req, res) => {
    res.json({ jobs: emulator.mediaJobs() });
  });
  r.get('/counts', (_req, res) => {
    res.json(emulator.counts());
  });
  r.get('/tasks', (_req, res) => {
    res.json({ tasks: emulator.tasks() });
  });
  r.get('/task-timing', (_req, res) => {
    res.json(emulator.taskTiming());
  });
  r.patch('/task-timing', (req, res) => {
    res.json(emulator.setTaskTiming(parse(taskTimingSchema, req.body)));
  });

  r.get('/quota', (_req, res) => {
    res.json(emulator.quota());
  });
  const setQuota = (req: Request, res: Response): void => {
    res.json(emulator.setQuota(parse(quotaPatchSchema, req.body)));
  };
  r.put('/quota', setQuota);
  r.patch('/quota', setQuota);

  r.get('/clock', (_req, res) => {
    res.json(emulator.state.clock.snapshot());
  });
  r.post('/clock/advance', (req, res) => {
    const { ms } = parse(z.object({ ms: z.number() }).strict(), req.body);
    res.json(emulator.advanceClock(ms));
  });
  r.post('/clock/next-minute', (_req, res) => {
    res.json(emulator.toNextMinute());
  });
  r.post('/clock/next-day', (_req, res) => {
    res.json(emulator.toNextDay());
  });
  r.post('/clock/set', (req, res) => {
    const { now } = parse(z.object({ now: instant }).strict(), req.body);
    res.json(emulator.setNow(now));
  });
  r.post('/clock/freeze', (req, res) => {
    const { at } = parse(z.object({ at: instant.optional() }).strict(), req.body);
    res.json(emulator.freezeClock(at));
  });
  r.post('/clock/unfreeze', (_req, res) => {
    res.json(emulator.unfreezeClock());
  });

  r.get('/domains', (_req, res) => {
    res.json(emulator.domains());
  });
  r.put('/domains', (req, res) => {
    const body = parse(domainsSchema, req.body);
    // ownsAll true (or nothing given): own every domain, `domains` as exceptions;
    // otherwise exactly the listed domains (none when ownsAll is false and no list is given).
    const ownsAll = body.ownsAll ?? body.domains === undefined;
    emulator.setDomains(ownsAll ? undefined : (body.domains ?? []));
    if (ownsAll && body.domains !== undefined) {
      const entries = Array.isArray(body.domains)
        ? body.domains.map((d) => [d, 'online'] as const)
        : Object.entries(body.domains);
      for (const [name, state] of entries) emulator.setDomainState(name, state);
    }
    res.json(emulator.domains());
  });
  r.put('/domains/:domain', (req, res) => {
    const { state } = parse(z.object({ state: domainState }).strict(), req.body);
    emulator.setDomainState(String(req.params.domain), state);
    res.json(emulator.domains());
  });
  r.delete('/domains/:domain', (req, res) => {
    emulator.removeDomain(String(req.params.domain));
    res.json(emulator.domains());
  });

  r.get('/account', (_req, res) => {
    res.json({ state: emulator.account() });
  });
  r.put('/account', (req, res) => {
    const { state } = parse(z.object({ state: z.enum(ACCOUNT_STATES) }).strict(), req.body);
    emulator.setAccountState(state);
    res.json({ state: emulator.account() });
  });

  r.get('/access', (_req, res) => {
    res.json(emulator.access());
  });
  r.post('/sts', (req, res) => {
    const body = parse(
      z
        .object({
          ttlMs: z
            .number()
            .int()
            .min(1)
            .max(7 * 86_400_000),
          deny: z.array(z.string().min(1)).optional(),
        })
        .strict(),
      req.body,
    );
    res.json({ Code: 'Success', ...emulator.issueSts(body) });
  });
  r.put('/permissions/:accessKeyId', (req, res) => {
    const { deny } = parse(z.object({ deny: z.array(z.string().min(1)) }).strict(), req.body);
    res.json(emulator.denyActions(String(req.params.accessKeyId), deny));
  });
  r.delete('/permissions/:accessKeyId', (req, res) => {
    res.json(emulator.denyActions(String(req.params.accessKeyId), []));
  });
  r.put('/clock/skew', (req, res) => {
    const { ms } = parse(
      z.object({ ms: z.number().int().min(-86_400_000).max(86_400_000) }).strict(),
      req.body,
    );
    res.json(emulator.setTimestampSkew(ms));
  });

  r.get('/faults', (_req, res) => {
    res.json(emulator.faults());
  });
  r.put('/faults', (req, res) => {
    res.json(emulator.setFaults(parse(faultOptionsSchema.partial(), req.body)));
  });
  r.patch('/faults', (req, res) => {
    res.json(emulator.updateFaults(parse(faultOptionsSchema.partial(), req.body)));
  });
  r.delete('/faults', (_req, res) => {
    emulator.clearFaults();
    res.json(emulator.faults());
  });

  r.use((req, res) => {
    res
      .status(404)
      .json({ error: { code: 'NotFound', message: `No control route ${req.method} ${req.originalUrl}` } });
  });
  r.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof BadRequest || isBodyParserError(error)) {
      res.status(400).json({ error: { code: 'BadRequest', message: (error as Error).message } });
      return;
    }
    res.status(500).json({ error: { code: 'InternalError', message: 'control API failure' } });
  });
  return r;
}

function isBodyParserError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'type' in error &&
    'status' in error &&
    (error as { status: number }).status < 500
  );
}
