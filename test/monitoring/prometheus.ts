import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute path of a binary on PATH, or a failure that says how to get it (never a silent skip). */
export function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status === 0 && path !== '') return path;
  throw new Error(
    `${name} is not on PATH. The monitoring test runs Prometheus' own tools on monitoring/: install them ` +
      `(Debian/Ubuntu: apt-get install prometheus, which brings prometheus and promtool; elsewhere: the release tarball ` +
      `from https://prometheus.io/download/ on PATH), or set SKIP_PROMETHEUS_TESTS=1 to skip this file knowingly.`,
  );
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for messages. */
  output: string;
}

/** Runs a command to its end (async, so several can run at once), with a time limit. */
export function runTool(
  command: string,
  args: readonly string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface RunningPrometheus {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  binary: string;
  dir: string;
  port: number;
  ruleFiles: readonly string[];
  /** job name → host:port */
  targets: Record<string, string>;
}

/** A real Prometheus scraping every second and evaluating the rules every second, storage in `dir`. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    scrape_configs: Object.entries(options.targets).map(([job, target]) => ({
      job_name: job,
      static_configs: [{ targets: [target] }],
    })),
  };
  const configPath = join(options.dir, 'prometheus.yml');
  mkdirSync(join(options.dir, 'data'), { recursive: true });
  // JSON is YAML.
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(
    options.binary,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${options.port}`;
  const running: RunningPrometheus = {
    url,
    child,
    output: () => output,
    stop: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) return running;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`prometheus did not become ready within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  warnings?: string[];
  data?: { resultType: string; result: Sample[] | [number, string] };
}

/** An instant query through the HTTP API. */
export async function instantQuery(prometheusUrl: string, expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  return (await response.json()) as QueryAnswer;
}

/** The samples of a vector answer ([] for anything else). */
export function samples(answer: QueryAnswer): Sample[] {
  const result = answer.data?.result;
  return answer.data?.resultType === 'vector' && Array.isArray(result) ? (result as Sample[]) : [];
}

export interface ApiRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  health: string;
  lastError?: string;
  lastEvaluation?: string;
  state?: string;
}

export interface ApiRuleGroup {
  name: string;
  file: string;
  rules: ApiRule[];
}

export async function loadedRules(prometheusUrl: string): Promise<ApiRuleGroup[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/rules`);
  const body = (await response.json()) as { status: string; data: { groups: ApiRuleGroup[] } };
  if (body.status !== 'success') throw new Error(`/api/v1/rules answered ${JSON.stringify(body)}`);
  return body.data.groups;
}

export async function metricNamesInTsdb(prometheusUrl: string): Promise<Set<string>> {
  const response = await fetch(`${prometheusUrl}/api/v1/label/__name__/values`);
  const body = (await response.json()) as { status: string; data: string[] };
  return new Set(body.data);
}

/** A rule as a rule file holds it (for writing mutated copies; JSON is YAML). */
export function ruleFileEntry(
  rule: ApiRule,
  overrides: { expr?: string; for?: string } = {},
): Record<string, unknown> {
  return {
    alert: rule.name,
    expr: overrides.expr ?? rule.query,
    for: overrides.for ?? `${rule.duration ?? 0}s`,
    labels: rule.labels ?? {},
    annotations: rule.annotations ?? {},
  };
}

export interface PromtoolFailure {
  alertname: string;
  /** The case expected no alert (exp:[]) and got one. */
  expectedNone: boolean;
  text: string;
}

/** The failing alert cases in `promtool test rules` output. */
export function promtoolFailures(output: string): PromtoolFailure[] {
  const blocks = output.split(/\n\s*alertname: /).slice(1);
  return blocks.map((block) => {
    const alertname = block.slice(0, block.indexOf(',')).trim();
    return { alertname, expectedNone: /^\s*exp:\[\],/m.test(block), text: block.slice(0, 400) };
  });
}
