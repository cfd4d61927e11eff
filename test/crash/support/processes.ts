import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root, and the production entry points the crash tests run (from the build). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ENTRY = {
  intake: join(ROOT, 'apps/intake/dist/main.js'),
  worker: join(ROOT, 'apps/worker/dist/main.js'),
  emulator: join(ROOT, 'apps/vod-emulator/dist/main.js'),
} as const;
const WATCHDOG = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'watchdog.mjs')).href;

/** Fails clearly when the build is missing; warns when a source file is newer than its build. */
export function assertBuilt(): void {
  const missing = Object.values(ENTRY).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `crash tests run the built processes; build first: npx tsc -b tsconfig.build.json (missing: ${missing.join(', ')})`,
    );
  }
  const newest = (dir: string, suffix: string) =>
    Math.max(
      0,
      ...readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith(suffix))
        .map((name) => statSync(join(dir, name)).mtimeMs),
    );
  for (const file of Object.values(ENTRY)) {
    const app = dirname(dirname(file));
    if (newest(join(app, 'src'), '.ts') > newest(dirname(file), '.js')) {
      process.stderr.write(
        `crash tests: warning: ${app}/src changed after its last build; rebuild (npx tsc -b tsconfig.build.json) to test the current code\n`,
      );
    }
  }
}

/** Every process a crash test started and has not seen exit; killed on the way out whatever happens. */
const live = new Map<number, string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live.keys()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Remembers a process not spawned here (e.g. redis-server) so the exit hook kills it too. */
export function track(pid: number | undefined, name: string): void {
  installExitHook();
  if (pid !== undefined) live.set(pid, name);
}
export function untrack(pid: number | undefined): void {
  if (pid !== undefined) live.delete(pid);
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One spawned node process in its own process group, with the tail of its output kept for reports. */
export class Proc {
  readonly exited: Promise<ExitInfo>;
  private tail: string[] = [];
  private exitInfo: ExitInfo | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        if (this.tail.length > 60) this.tail.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        untrack(child.pid);
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  logTail(lines = 20): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** kill -9 of the whole process group; resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    try {
      process.kill(-this.pid, 'SIGTERM');
    } catch {
      this.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => void this.kill9(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts `node <entry>` with only the given environment (plus PATH), detached into its own group. */
export function spawnNode(name: string, entry: string, env: Record<string, string>): Proc {
  installExitHook();
  const child = spawn(process.execPath, ['--import', WATCHDOG, entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child.pid, name);
  return new Proc(name, child);
}

/** Polls `url` until it answers 200, or throws after `timeoutMs` with the process's last lines. */
export async function waitForHttp(url: string, timeoutMs: number, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && !proc.alive)
      throw new Error(
        `${proc.name} exited (${JSON.stringify(proc.exit)}) before ${url} answered:\n${proc.logTail()}`,
      );
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `${url} did not answer 200 within ${timeoutMs} ms${proc ? `:\n${proc.logTail()}` : ''}`,
      );
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A small seeded PRNG (mulberry32), so kill schedules repeat from run to run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
