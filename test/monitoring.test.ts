/**
 * monitoring/: the scrape config, the alert rules and their promtool unit tests, and the Grafana
 * dashboard, checked with Prometheus' own tools against the real intake and worker processes.
 *
 * Needs `prometheus` and `promtool` on PATH (Debian: apt-get install prometheus) and a build
 * (`tsc -b tsconfig.build.json`). SKIP_PROMETHEUS_TESTS=1 skips this file; without it, missing
 * binaries fail the run with a message saying what to install.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, testNamespace } from '@refreshq/test-redis';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allPanels,
  dashboardQueries,
  metricNamesIn,
  selectorsIn,
  type DashboardQuery,
} from './monitoring/dashboard.js';
import {
  instantQuery,
  loadedRules,
  metricNamesInTsdb,
  promtoolFailures,
  requireBinary,
  ruleFileEntry,
  runTool,
  samples,
  startPrometheus,
  type ApiRule,
  type RunningPrometheus,
} from './monitoring/prometheus.js';
import { mapLimit, startApp, workerProcessEnv, type AppProcess } from './support/processes.js';
import { cleanNamespace, eventually, getJson, postJson, redisUrl, TEST_KEY } from './support/stack.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MONITORING = join(ROOT, 'monitoring');
const ALERTS = join(MONITORING, 'prometheus/alerts.yml');
const ALERT_TESTS = join(MONITORING, 'prometheus/tests/alerts-test.yml');
const SCRAPE_CONFIG = join(MONITORING, 'prometheus/prometheus.yml');
const DASHBOARD = join(MONITORING, 'grafana/dashboards/refreshq.json');
const SKIP = process.env.SKIP_PROMETHEUS_TESTS === '1';

/**
 * Every metric the dashboard and the alerts may read (issue #6's list). `pending`: being added
 * with task tracking; a query that fails for lack of one of these says so.
 */
const CATALOG: Record<string, { app: 'intake' | 'worker' | 'prometheus' | 'node'; pending?: true }> = {
  refreshq_intake_requests_total: { app: 'intake' },
  refreshq_intake_paths_accepted_total: { app: 'intake' },
  refreshq_http_request_duration_seconds: { app: 'intake' },
  refreshq_upstream_calls_total: { app: 'worker' },
  refreshq_upstream_call_duration_seconds: { app: 'worker' },
  refreshq_requests_admitted_total: { app: 'worker' },
  refreshq_paths_coalesced_total: { app: 'worker' },
  refreshq_paths_submitted_total: { app: 'worker' },
  refreshq_paths_rejected_total: { app: 'worker' },
  refreshq_paths_requeued_total: { app: 'worker' },
  refreshq_batch_size_paths: { app: 'worker' },
  refreshq_uncertain_lookups_total: { app: 'worker' },
  refreshq_batches_reclaimed_total: { app: 'worker' },
  refreshq_quota_refusals_total: { app: 'worker' },
  refreshq_quota_used_units: { app: 'worker' },
  refreshq_quota_budget_units: { app: 'worker' },
  refreshq_quota_hold_seconds: { app: 'worker' },
  refreshq_backlog_paths: { app: 'worker' },
  refreshq_backlog_estimated_submit_seconds: { app: 'worker' },
  refreshq_breaker_open: { app: 'worker', pending: true },
  refreshq_oldest_pending_age_seconds: { app: 'worker', pending: true },
  refreshq_intake_to_submit_seconds: { app: 'worker', pending: true },
  refreshq_submit_to_complete_seconds: { app: 'worker', pending: true },
  refreshq_task_outcomes_total: { app: 'worker', pending: true },
  refreshq_tasks_tracked: { app: 'worker', pending: true },
  refreshq_callbacks_total: { app: 'worker', pending: true },
  refreshq_account_errors_total: { app: 'worker' },
  refreshq_breaker_opened_total: { app: 'worker' },
  refreshq_submit_paused: { app: 'worker' },
  refreshq_credential_refreshes_total: { app: 'worker' },
  refreshq_quota_pressure: { app: 'worker' },
  refreshq_repeats_held_total: { app: 'worker' },
  refreshq_directories_promoted_total: { app: 'worker' },
  refreshq_files_promoted_total: { app: 'worker' },
  refreshq_media_jobs_total: { app: 'worker' },
  refreshq_media_play_urls_total: { app: 'worker' },
  refreshq_follow_on_preloads_total: { app: 'worker' },
  up: { app: 'prometheus' },
  process_cpu_seconds_total: { app: 'node' },
  process_resident_memory_bytes: { app: 'node' },
  nodejs_heap_size_used_bytes: { app: 'node' },
  nodejs_eventloop_lag_seconds: { app: 'node' },
  nodejs_eventloop_lag_p99_seconds: { app: 'node' },
};

const family = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
const inCatalog = (name: string): boolean =>
  CATALOG[name] !== undefined || CATALOG[family(name)] !== undefined;
const isPending = (name: string): boolean => Boolean((CATALOG[name] ?? CATALOG[family(name)])?.pending);

/** Lint findings tolerated on /metrics: none (createMetricsRegistry drops prom-client's misnamed gauges). */
const PROM_CLIENT_DEFAULT_LINT: string[] = [];

/**
 * Alerts whose outcome is certain at the end of the traffic below: true = the expression returns
 * series, false = it returns none. Alerts not listed depend on timing (call counts within a
 * window) and are only required to evaluate without error.
 */
const EXPECTED_ALERT_TRUTH: Record<string, boolean> = {
  RefreshqQuotaDayNearlySpent: true, // the File day budget (16) is spent by the second phase
  RefreshqHighPriorityDelayed: false, // the high path went out in the first phase
  RefreshqPendingStuck: false, // nothing has waited 15 minutes
  RefreshqPendingDelayedByQuota: false, // nor 4 hours
  RefreshqBreakerOpen: false,
  RefreshqSubmittingPaused: false, // nobody paused
  RefreshqAccountError: false, // the emulator trusts the test key for every action
  RefreshqAccountErrorOnLookups: false,
  RefreshqTaskTrackingStalled: false, // tasks ended
  RefreshqCallbacksFailing: false, // one callback given up: fewer than 3
  RefreshqWorkerDown: false,
  RefreshqNoWorkerUp: false,
  RefreshqIntakeDown: false,
  RefreshqNoIntakeUp: false,
  RefreshqIntakeUnavailable: false, // no 5xx
};

/**
 * Selectors (normalised: no blanks around matchers) that match nothing in a healthy run, and
 * why. Every other selector must match series after the traffic below, so a misspelt metric,
 * label or value cannot hide in an alert that would then never fire.
 */
const SELECTORS_EMPTY_WHEN_HEALTHY: Record<string, string> = {
  'refreshq_http_request_duration_seconds_count{route!~"/metrics|/healthz",status_code=~"5.."}':
    'intake answers no 5xx while Redis is up',
  refreshq_account_errors_total: 'the emulator trusts the test key, its clock and every action',
  refreshq_credential_refreshes_total: 'no account error, so nothing to fetch again',
  refreshq_breaker_opened_total: 'the account is active and trusts the test key',
  'refreshq_account_errors_total{action="RefreshVodObjectCaches"}':
    'the emulator trusts the test key, its clock and every action',
  'refreshq_account_errors_total{action!="RefreshVodObjectCaches"}':
    'the emulator trusts the test key, its clock and every action',
};

/** Account-wide gauges every worker reports identically: only max() may aggregate them. */
const GLOBAL_GAUGES = [
  'refreshq_quota_used_units',
  'refreshq_quota_budget_units',
  'refreshq_quota_hold_seconds',
  'refreshq_backlog_paths',
  'refreshq_backlog_estimated_submit_seconds',
  'refreshq_breaker_open',
  'refreshq_submit_paused',
  'refreshq_quota_pressure',
  'refreshq_oldest_pending_age_seconds',
  'refreshq_tasks_tracked',
];

/** Global gauges in `expr` that are not read directly inside max(...) or max by (...) (...). */
function globalGaugesNotUnderMax(expr: string): string[] {
  const bad: string[] = [];
  for (const name of GLOBAL_GAUGES) {
    for (const match of expr.matchAll(new RegExp(`\\b${name}\\b`, 'g'))) {
      const before = expr.slice(0, match.index);
      if (!/\bmax(\s+by\s*\([^)]*\))?\s*\(\s*$/.test(before)) bad.push(name);
    }
  }
  return bad;
}

const OK = 'ok.example.com';
const MEDIA_ID = '00112233445566778899aabbccddeeff';
const FINAL_REQUEST_STATES = new Set(['complete', 'failed', 'partially_failed', 'unconfirmed', 'cancelled']);

describe.skipIf(SKIP)('monitoring: Prometheus config, alert rules and Grafana dashboard', () => {
  let promtool = '';
  let tmp = '';
  let namespace = '';
  let emulator: RunningEmulator | undefined;
  let callbackServer: Server | undefined;
  let intake: AppProcess | undefined;
  let worker: AppProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  let intakeUrl = '';
  let workerUrl = '';
  let callbackUrl = '';
  const callbacksReceived: string[] = [];

  // A setup failure (a missing binary above all) fails each test that needs the stack, by name,
  // rather than skipping them.
  let setupError: unknown;
  const ready = (): void => {
    if (setupError !== undefined) throw setupError;
  };

  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error;
    }
  }, 60_000);

  async function setUp(): Promise<void> {
    promtool = requireBinary('promtool');
    const prometheusBinary = requireBinary('prometheus');
    for (const app of ['intake', 'worker']) {
      if (!existsSync(join(ROOT, `apps/${app}/dist/main.js`)))
        throw new Error(`apps/${app}/dist/main.js is missing: run npx tsc -b tsconfig.build.json first`);
    }
    tmp = mkdtempSync(join(tmpdir(), 'refreshq-monitoring-'));
    namespace = testNamespace('monitoring');

    emulator = await startEmulator({
      credentials: [TEST_KEY],
      silent: true,
      domains: { [OK]: 'online', 'gone.example.com': 'offline' },
      // A video for the media-id panels (#16).
      media: {
        [MEDIA_ID]: { playUrls: [{ url: `https://${OK}/play/hd.mp4`, format: 'mp4', definition: 'HD' }] },
      },
      // Half the tasks fail (seeded), so the failure panels have data.
      tasks: { pendingMs: 100, completeAfterMs: 500, failureRate: 0.5, seed: 7 },
    });
    // Callbacks to /ok are taken, callbacks to /fail refused (one attempt each: see the worker's env).
    callbackServer = createServer((req, res) => {
      callbacksReceived.push(`${req.url ?? ''} ${String(req.headers['x-refreshq-request-id'] ?? '')}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url === '/hooks/ok' ? 204 : 500);
        res.end();
      });
    });
    await new Promise<void>((resolve) => callbackServer!.listen(0, '127.0.0.1', () => resolve()));
    callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/hooks`;

    const [intakePort, workerPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];
    intakeUrl = `http://127.0.0.1:${intakePort}`;
    workerUrl = `http://127.0.0.1:${workerPort}`;
    intake = startApp('intake', {
      REDIS_URL: redisUrl(),
      REFRESHQ_NAMESPACE: namespace,
      PORT: String(intakePort),
      HOST: '127.0.0.1',
      // The callback receiver is on loopback: allowed by name and port, as an operator would.
      CALLBACK_ALLOWED_HOSTS: new URL(callbackUrl).host,
    });
    worker = startApp(
      'worker',
      workerProcessEnv(redisUrl(), namespace, emulator.url, TEST_KEY, {
        WORKER_METRICS_PORT: String(workerPort),
        WORKER_METRICS_HOST: '127.0.0.1',
        COALESCE_WINDOW_MS: '1000',
        VOD_CALL_TIMEOUT_MS: '3000',
        // A small File day budget: the second phase spends it and leaves paths waiting (no
        // directory promotion, which would refresh them as their folder instead).
        QUOTA_URLS_PER_DAY: '16',
        DIRECTORY_PROMOTION: 'off',
        // One unit reserved per media id, so the media request fits the first phase's budget.
        MEDIA_PLAY_URLS_PER_ID: '1',
        QUOTA_SYNC_INTERVAL_MS: '0',
        TASK_FIRST_POLL_MS: '1000',
        TASK_POLL_MAX_INTERVAL_MS: '1000',
        CALLBACK_MAX_ATTEMPTS: '1',
        CALLBACK_ALLOWED_HOSTS: new URL(callbackUrl).host,
      }),
    );
    for (const [name, url, app] of [
      ['intake', intakeUrl, intake],
      ['worker', workerUrl, worker],
    ] as const) {
      await eventually(
        async () => ((await fetch(`${url}/metrics`)).ok ? true : undefined),
        20_000,
        `${name} /metrics`,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${name} output:\n${app.output()}`);
      });
    }
    prometheus = await startPrometheus({
      binary: prometheusBinary,
      dir: join(tmp, 'prometheus'),
      port: prometheusPort,
      ruleFiles: [ALERTS],
      targets: { 'refreshq-intake': `127.0.0.1:${intakePort}`, 'refreshq-worker': `127.0.0.1:${workerPort}` },
    });
  }

  afterAll(async () => {
    // Every step runs even when an earlier one fails.
    const steps: Array<[string, () => Promise<unknown> | undefined]> = [
      ['prometheus', () => prometheus?.stop()],
      ['intake', () => intake?.stop()],
      ['worker', () => worker?.stop()],
      ['emulator', () => emulator?.close()],
      [
        'callback server',
        () =>
          callbackServer ? new Promise<void>((resolve) => callbackServer!.close(() => resolve())) : undefined,
      ],
      ['namespace', () => (namespace ? cleanNamespace(namespace) : undefined)],
      ['temporary files', async () => (tmp ? rmSync(tmp, { recursive: true, force: true }) : undefined)],
    ];
    const problems: string[] = [];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        problems.push(`${name}: ${String(error)}`);
      }
    }
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
  }, 60_000);

  it('the scrape config and the alert rules pass promtool, and the rules unit tests pass', async () => {
    ready();
    const config = await runTool(promtool, ['check', 'config', SCRAPE_CONFIG]);
    expect(config.code, config.output).toBe(0);
    const rules = await runTool(promtool, ['check', 'rules', ALERTS]);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output).toMatch(/SUCCESS: \d+ rules found/);
    const unit = await runTool(promtool, ['test', 'rules', ALERT_TESTS], { timeoutMs: 60_000 });
    expect(unit.code, unit.output).toBe(0);
  });

  it('every alert has a firing case and a silent case in the unit tests (each rule mutated in turn)', async () => {
    ready();
    // The rules as Prometheus loaded them. For each alert name: its rules alone pass its cases;
    // made never-true, a case fails (it has a firing case); made always-true, a case that expects
    // no alert fails (it has a silent case, evaluated against this rule).
    const groups = await loadedRules(prometheus!.url);
    const rules = groups
      .flatMap((group) => group.rules)
      .filter((rule): rule is ApiRule => rule.type === 'alerting');
    expect(rules.length).toBeGreaterThan(0);
    const testsText = readFileSync(ALERT_TESTS, 'utf8');
    const names = [...new Set(rules.map((rule) => rule.name))];

    type Run = {
      label: string;
      name: string;
      rules: Record<string, unknown>[];
      expect: 'pass' | 'fail' | 'fail-silent-case';
    };
    const runs: Run[] = [];
    for (const name of names) {
      const own = rules.filter((rule) => rule.name === name);
      runs.push({
        label: `${name}: as written`,
        name,
        rules: own.map((rule) => ruleFileEntry(rule)),
        expect: 'pass',
      });
      own.forEach((mutated, index) => {
        const others = own.filter((_, i) => i !== index).map((rule) => ruleFileEntry(rule));
        const tag = `${name}#${index + 1} (${mutated.labels?.severity ?? 'no severity'})`;
        runs.push({
          label: `${tag} never true`,
          name,
          rules: [...others, ruleFileEntry(mutated, { expr: 'vector(0) > 1' })],
          expect: 'fail',
        });
        runs.push({
          label: `${tag} always true`,
          name,
          rules: [...others, ruleFileEntry(mutated, { expr: 'vector(1)', for: '0s' })],
          expect: 'fail-silent-case',
        });
      });
    }
    const problems = await mapLimit(runs, 2, async (run, index) => {
      const dir = join(tmp, 'mutants', String(index));
      mkdirSync(join(dir, 'tests'), { recursive: true });
      writeFileSync(
        join(dir, 'alerts.yml'),
        JSON.stringify({ groups: [{ name: 'mutant', rules: run.rules }] }),
      );
      writeFileSync(join(dir, 'tests/alerts-test.yml'), testsText);
      const result = await runTool(promtool, ['test', 'rules', 'tests/alerts-test.yml'], {
        cwd: dir,
        timeoutMs: 60_000,
      });
      if (/parse error|could not|error loading/i.test(result.output) && !result.output.includes('alertname:'))
        return `${run.label}: promtool could not run: ${result.output.slice(0, 500)}`;
      const failures = promtoolFailures(result.output).filter((failure) => failure.alertname === run.name);
      if (run.expect === 'pass' && failures.length > 0)
        return `${run.label}: its own cases fail:\n${failures.map((f) => f.text).join('\n')}`;
      if (run.expect === 'fail' && failures.length === 0)
        return `${run.label}: no unit test notices (no case where it fires)`;
      if (run.expect === 'fail-silent-case' && !failures.some((failure) => failure.expectedNone))
        return `${run.label}: no unit test notices (no case where it must stay silent)`;
      return undefined;
    });
    expect(problems.filter(Boolean)).toEqual([]);
  }, 60_000);

  it('drives traffic, then every dashboard query and alert expression evaluates on real scrapes', async () => {
    ready();
    const prom = prometheus!;
    const api = `${intakeUrl}/v1/refreshes`;

    // Phase 1: a throttled call and an unanswered one (uncertain, looked up), a domain the upstream
    // refuses, a callback, a coalesced repeat, high priority, a directory, an idempotent replay,
    // a rejected request.
    emulator!.emulator.setFaults({
      throttleNext: 1,
      serverErrorNext: 1,
      actions: ['RefreshVodObjectCaches'],
    });
    const posted = {
      gone: await postJson(api, { paths: ['https://gone.example.com/v/1.mp4'] }),
      files: await postJson(api, {
        paths: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `https://${OK}/v/f${n}.mp4`),
        callbackUrl: `${callbackUrl}/ok`,
      }),
      repeat: await postJson(api, { paths: [`https://${OK}/v/f1.mp4`] }),
      high: await postJson(api, {
        paths: [`https://${OK}/v/urgent.mp4`],
        priority: 'high',
        callbackUrl: `${callbackUrl}/fail`,
      }),
      dir: await postJson(api, { paths: [`https://${OK}/v/dir/`], objectType: 'Directory' }),
      idem: await postJson(
        api,
        { paths: [`https://${OK}/v/idem.mp4`] },
        { 'idempotency-key': `k-${namespace}` },
      ),
      replay: await postJson(
        api,
        { paths: [`https://${OK}/v/idem.mp4`] },
        { 'idempotency-key': `k-${namespace}` },
      ),
      // The kinds of work of #16: a prefetch, a refresh by media id, a refresh then a prefetch.
      preload: await postJson(api, { paths: [`https://${OK}/v/warm.mp4`], action: 'preload' }),
      media: await postJson(api, { mediaIds: [MEDIA_ID] }),
      then: await postJson(api, { paths: [`https://${OK}/v/then.mp4`], then: 'preload' }),
    };
    for (const [name, answer] of Object.entries(posted))
      expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(202);
    expect(posted.replay.body.replayed).toBe(true);
    const bad = await postJson(api, { paths: ['ftp://example.com/x'] });
    expect(bad.status).toBe(400);

    const settled = ['gone', 'files', 'high', 'dir', 'preload', 'media', 'then'] as const;
    await eventually(
      async () => {
        const states = await Promise.all(
          settled.map(async (name) => (await getJson(`${api}/${posted[name].body.id}`)).body.state as string),
        );
        return states.every((state) => FINAL_REQUEST_STATES.has(state)) ? states : undefined;
      },
      30_000,
      'the first requests to end (tasks complete or failed, the refused domain rejected)',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nworker output:\n${worker!.output()}`);
    });
    await eventually(
      async () =>
        ['/hooks/ok', '/hooks/fail'].every((path) =>
          callbacksReceived.some((line) => line.startsWith(`${path} `)),
        )
          ? true
          : undefined,
      15_000,
      'a delivered and a refused completion callback',
    );

    // Phase 2: more low-priority files than the day budget has left; the rest wait for tomorrow.
    const many = await postJson(api, {
      paths: Array.from({ length: 20 }, (_, n) => `https://${OK}/v/low${n}.mp4`),
      priority: 'low',
    });
    expect(many.status).toBe(202);

    // Prometheus has seen it once the worker's 5-second report shows the day budget spent and the
    // waiting paths (the refusal counter moves at once, the gauges only with the report); then a
    // few more scrapes and rule evaluations.
    const held = [
      'max(refreshq_quota_used_units{object_type="File",window="day"}) >= max(refreshq_quota_budget_units{object_type="File",window="day"})',
      'max(refreshq_backlog_paths{object_type="File",lane="low"}) > 0',
      'sum(refreshq_quota_refusals_total{object_type="File",budget="day"}) > 0',
    ].join(' and on () ');
    await eventually(
      async () => (samples(await instantQuery(prom.url, held)).length > 0 ? true : undefined),
      20_000,
      'Prometheus to scrape the spent day budget and the held backlog',
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));

    // ---- every dashboard query
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid?: string;
      panels?: unknown[];
      templating?: { list?: unknown[] };
    };
    const queries = dashboardQueries(dashboard as never);
    expect(queries.length).toBeGreaterThan(30);
    const inTsdb = await metricNamesInTsdb(prom.url);
    const report: string[] = [];
    const problems: string[] = [];
    const check = async (what: string, expr: string, mustHaveData: boolean): Promise<void> => {
      const unknown = metricNamesIn(expr).filter((name) => !inCatalog(name));
      if (unknown.length > 0)
        problems.push(`${what}: reads metrics not in issue #6's list: ${unknown.join(', ')}`);
      const answer = await instantQuery(prom.url, expr);
      if (answer.status !== 'success') {
        problems.push(`${what}: ${answer.errorType}: ${answer.error}\n    ${expr}`);
        return;
      }
      const found = samples(answer);
      const nan = found.length > 0 && found.every((sample) => Number.isNaN(Number(sample.value[1])));
      report.push(
        `${found.length === 0 ? 'NO DATA' : nan ? 'NaN    ' : 'ok     '} ${String(found.length).padStart(3)}  ${what}`,
      );
      if (mustHaveData && found.length === 0) {
        const missing = metricNamesIn(expr).filter((name) => !inTsdb.has(name));
        const pending = missing.filter(isPending);
        problems.push(
          `${what}: no data${missing.length > 0 ? `; never scraped: ${missing.join(', ')}` : ''}${pending.length > 0 ? ` (being added with task tracking, #6)` : ''}\n    ${expr}`,
        );
      }
    };

    const selectorsChecked = new Set<string>();
    const checkSelectors = async (what: string, expr: string): Promise<void> => {
      const selectors = selectorsIn(expr);
      if (selectors.length === 0) problems.push(`${what}: no selector found in ${expr}`);
      for (const selector of selectors) {
        if (selectorsChecked.has(selector)) continue;
        selectorsChecked.add(selector);
        const why = SELECTORS_EMPTY_WHEN_HEALTHY[selector];
        await check(`  ${why ? '(empty when healthy) ' : ''}${selector}`, selector, why === undefined);
      }
    };

    for (const query of queries) {
      if (query.datasourceUid !== 'prometheus')
        problems.push(`${query.where}: datasource uid ${String(query.datasourceUid)}, want "prometheus"`);
      if (query.expr.includes('$'))
        problems.push(`${query.where}: a Grafana variable the test does not know: ${query.raw}`);
      // The traffic above exercises every panel, so every dashboard query must return series,
      // and so must each selector in it (an `or vector(0)` must not hide a misspelt one).
      await check(`panel  ${query.where}`, query.expr, true);
      await checkSelectors(`panel  ${query.where}`, query.expr);
    }

    // ---- every alert expression, as Prometheus loaded it
    const rules = (await loadedRules(prom.url))
      .flatMap((group) => group.rules)
      .filter((rule) => rule.type === 'alerting');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const what = `alert  ${rule.name} (${rule.labels?.severity ?? '?'})`;
      for (const name of globalGaugesNotUnderMax(rule.query))
        problems.push(`${what}: ${name} is account-wide: aggregate it with max()`);
      if (rule.health !== 'ok') problems.push(`${what}: health ${rule.health}: ${rule.lastError ?? ''}`);
      // The expression: evaluates; series or not as EXPECTED_ALERT_TRUTH says.
      await check(what, rule.query, false);
      const expected = EXPECTED_ALERT_TRUTH[rule.name];
      if (expected !== undefined) {
        const count = samples(await instantQuery(prom.url, rule.query)).length;
        if (count > 0 !== expected) {
          const seen = await Promise.all(
            metricNamesIn(rule.query).map(async (name) => {
              const values = samples(await instantQuery(prom.url, name)).map(
                ({ metric, value }) => `${JSON.stringify(metric)} ${value[1]}`,
              );
              return `    ${name}:\n      ${values.join('\n      ') || '(none)'}`;
            }),
          );
          problems.push(
            `${what}: expression is ${count > 0 ? 'true' : 'false'} after the traffic, expected ${expected}; what it reads:\n${seen.join('\n')}`,
          );
        }
      }
      // Every selector it reads matches scraped series (unless listed as empty when healthy).
      await checkSelectors(what, rule.query);
    }
    for (const name of Object.keys(EXPECTED_ALERT_TRUTH)) {
      if (!rules.some((rule) => rule.name === name))
        problems.push(`EXPECTED_ALERT_TRUTH names ${name}, which alerts.yml does not define`);
    }

    process.stdout.write(
      `\nmonitoring: ${queries.length} dashboard queries, ${rules.length} alert rules on real scrapes\n${report.join('\n')}\n`,
    );
    const never = Object.keys(CATALOG).filter(
      (name) => CATALOG[name]!.app !== 'prometheus' && !inTsdb.has(name) && !inTsdb.has(`${name}_count`),
    );
    if (never.length > 0)
      process.stdout.write(`monitoring: metrics in issue #6's list never scraped: ${never.join(', ')}\n`);
    expect(problems).toEqual([]);
  }, 90_000);

  it('both /metrics bodies pass promtool check metrics, and no label value is a URL', async () => {
    ready();
    for (const [app, url] of [
      ['intake', intakeUrl],
      ['worker', workerUrl],
    ] as const) {
      const body = await (await fetch(`${url}/metrics`)).text();
      const lint = await runTool(promtool, ['check', 'metrics'], { input: body });
      const findings = lint.output
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      const ours = findings.filter((line) => !PROM_CLIENT_DEFAULT_LINT.includes(line));
      expect(ours, `${app}: promtool check metrics`).toEqual([]);
      // The tolerance is for prom-client's defaults only, and only while they still appear.
      for (const known of PROM_CLIENT_DEFAULT_LINT)
        expect(findings, `${app}: "${known}" is gone; drop it from PROM_CLIENT_DEFAULT_LINT`).toContain(
          known,
        );
      expect(body, `${app}: app label`).toMatch(new RegExp(`^refreshq_[a-z_]+\\{[^}]*app="${app}"`, 'm'));
      const urlLabels = body
        .split('\n')
        .filter((line) => !line.startsWith('#') && /="[a-z][a-z0-9+.-]*:\/\//i.test(line));
      expect(urlLabels, `${app}: label values that are URLs`).toEqual([]);
    }
  });

  it('the dashboard is well-formed for provisioning: fixed uid and datasource, unique ids, the rows of issue #6', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      title: string;
      panels: Array<{ id: number; type: string; title: string }>;
    };
    expect(dashboard.uid).toBe('refreshq');
    const panels = allPanels(dashboard as never) as Array<{ id: number; type: string; title: string }>;
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(panels.filter((panel) => panel.type === 'row').map((panel) => panel.title)).toEqual([
      'Intake',
      'Queue & backlog',
      'Quota',
      'Upstream',
      'Tasks',
      'Reliability',
      'Processes',
    ]);
    const queries: DashboardQuery[] = dashboardQueries(dashboard as never);
    const read = new Set(queries.flatMap((query) => metricNamesIn(query.expr)).map(family));
    // Every metric of issue #6 is on the dashboard.
    const absent = Object.keys(CATALOG).filter((name) => !read.has(name));
    expect(absent).toEqual([]);
    // Account-wide gauges are aggregated with max() (every worker reports the same value).
    const notMax = queries.flatMap((query) =>
      globalGaugesNotUnderMax(query.expr).map((name) => `${query.where}: ${name}`),
    );
    expect(notMax).toEqual([]);
    const provider = readFileSync(join(MONITORING, 'grafana/provisioning/dashboards/refreshq.yml'), 'utf8');
    expect(provider).toMatch(/path: \/etc\/grafana\/dashboards/);
    const datasource = readFileSync(
      join(MONITORING, 'grafana/provisioning/datasources/prometheus.yml'),
      'utf8',
    );
    expect(datasource).toMatch(/uid: prometheus/);
  });
});
