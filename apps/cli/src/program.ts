import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiFailure, type Client, createClient, Unreachable } from './client.js';
import { EXIT } from './exit-codes.js';
import * as format from './format.js';
import type { Accepted, RequestStatus } from './views.js';
import { allComplete, TimedOut, waitForEnd } from './wait.js';

export interface Io {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const DEFAULT_URL = 'http://127.0.0.1:8080';
const PRIORITIES = ['high', 'normal', 'low'];

interface Globals {
  url: string;
  json?: boolean;
}

interface WaitFlags {
  wait?: boolean;
  timeout: number;
  interval: number;
}

interface PurgeFlags extends WaitFlags {
  dir?: boolean;
  priority: string;
  callbackUrl?: string;
  idempotencyKey?: string;
}

interface RetryFlags extends WaitFlags {
  path?: string[];
  priority?: string;
}

interface ListFlags {
  state?: string;
  since?: string;
  limit: number;
  cursor?: string;
}

const seconds = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected seconds (a number ≥ 0)');
  return parsed;
};

const positiveInt = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return parsed;
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The exit code of a command that ran; the outcome is printed before it is returned. */
type Action = (client: Client, globals: Globals, command: Command) => Promise<number>;

/**
 * `refreshq`, the command line of the HTTP API. Every command prints a short human answer, or
 * with --json the API's JSON; the exit code says how it went (exit-codes.ts). The token comes
 * only from REFRESHQ_TOKEN, so it never shows in a process list or a shell history.
 */
export function createProgram(io: Io, done: (code: number) => void): Command {
  const print = (text: string) => io.stdout.write(`${text}\n`);
  const printJson = (value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

  const program = new Command('refreshq')
    .description('Queue CDN refreshes with refreshq, follow them, look paths up, and act on them.')
    .addOption(
      new Option('--url <url>', 'the intake API (REFRESHQ_URL)').default(io.env.REFRESHQ_URL || DEFAULT_URL),
    )
    .option('--json', "print the API's JSON (for scripts)")
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const run =
    (action: Action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals() as Globals;
      const client = createClient(globals.url, io.env.REFRESHQ_TOKEN || undefined);
      try {
        done(await action(client, globals, command));
      } catch (error) {
        done(report(error, globals));
      }
    };

  const report = (error: unknown, globals: Globals): number => {
    if (error instanceof ApiFailure) {
      if (globals.json && error.body !== undefined) printJson(error.body);
      else io.stderr.write(`refreshq: ${error.message}\n`);
      return error.status >= 500 ? EXIT.unavailable : EXIT.refused;
    }
    if (error instanceof TimedOut) {
      if (globals.json) printJson(error.last);
      io.stderr.write(`refreshq: ${error.message}\n`);
      return EXIT.timedOut;
    }
    if (error instanceof Unreachable) {
      io.stderr.write(`refreshq: ${error.message}\n`);
      return EXIT.unavailable;
    }
    throw error;
  };

  const waitOptions = (command: Command) =>
    command
      .option('--wait', 'follow the request until every path has ended; the exit code tells how')
      .option('--timeout <seconds>', 'with --wait: give up after this long (0: never)', seconds, 0)
      .option('--interval <seconds>', 'with --wait: seconds between looks', seconds, 1);

  /** Prints `first` (or, with --wait, follows the request and prints where it ended). */
  const finish = async (
    client: Client,
    globals: Globals,
    id: string,
    flags: WaitFlags,
    first: () => void,
  ) => {
    if (!flags.wait) {
      first();
      return EXIT.ok;
    }
    if (!globals.json) first();
    const ended = await waitForEnd(client, id, {
      intervalMs: flags.interval * 1000,
      timeoutMs: flags.timeout * 1000,
      out: io.stderr,
    });
    if (globals.json) printJson(ended);
    else print(format.status(ended));
    return allComplete(ended) ? EXIT.ok : EXIT.unsuccessful;
  };

  waitOptions(
    program
      .command('purge')
      .description('queue URLs (or, with --dir, directories) for refreshing')
      .argument('<url...>', 'the paths')
      .option('--dir', 'the paths are directories (each ends in /)')
      .addOption(new Option('--priority <lane>', 'the lane').choices(PRIORITIES).default('normal'))
      .option('--callback-url <url>', 'POSTed the status once every path has ended')
      .option('--idempotency-key <key>', 'the same key within 24 h gets the first answer back'),
  ).action(
    run(async (client, globals, command) => {
      const urls = command.processedArgs[0] as string[];
      const flags = command.opts<PurgeFlags>();
      const answer = await client.call<Accepted>(
        'POST',
        '/v1/refreshes',
        {
          paths: urls,
          objectType: flags.dir ? 'Directory' : 'File',
          priority: flags.priority,
          ...(flags.callbackUrl ? { callbackUrl: flags.callbackUrl } : {}),
        },
        flags.idempotencyKey ? { 'idempotency-key': flags.idempotencyKey } : {},
      );
      return finish(client, globals, answer.id, flags, () =>
        globals.json ? printJson(answer) : print(format.accepted(answer)),
      );
    }),
  );

  waitOptions(
    program.command('status').description('the status of a request and each of its paths').argument('<id>'),
  ).action(
    run(async (client, globals, command) => {
      const id = command.processedArgs[0] as string;
      const flags = command.opts<WaitFlags>();
      const view = await client.call<RequestStatus>('GET', `/v1/refreshes/${encodeURIComponent(id)}`);
      if (flags.wait) return finish(client, globals, id, flags, () => {});
      if (globals.json) printJson(view);
      else print(format.status(view));
      return EXIT.ok;
    }),
  );

  program
    .command('lookup')
    .description('what refreshq knows of one path: its state, last submission and completion, its requests')
    .argument('<url>')
    .option('--dir', 'look the path up as a directory')
    .action(
      run(async (client, globals, command) => {
        const url = command.processedArgs[0] as string;
        const query = new URLSearchParams({
          url,
          ...(command.opts<{ dir?: boolean }>().dir ? { objectType: 'Directory' } : {}),
        });
        const view = await client.call<Parameters<typeof format.lookup>[0]>('GET', `/v1/paths?${query}`);
        if (globals.json) printJson(view);
        else print(format.lookup(view));
        return EXIT.ok;
      }),
    );

  program
    .command('list')
    .description('requests, newest first')
    .option('--state <states>', 'comma-separated request states (e.g. failed,partially_failed)')
    .option('--since <time>', 'received at or after (ISO 8601 or epoch ms)')
    .option('--limit <n>', 'requests per page (1 to 200)', positiveInt, 20)
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .action(
      run(async (client, globals, command) => {
        const flags = command.opts<ListFlags>();
        const query = new URLSearchParams({ limit: String(flags.limit) });
        if (flags.state) query.set('state', flags.state);
        if (flags.since) query.set('since', flags.since);
        if (flags.cursor) query.set('cursor', flags.cursor);
        const view = await client.call<Parameters<typeof format.list>[0]>('GET', `/v1/refreshes?${query}`);
        if (globals.json) printJson(view);
        else print(format.list(view));
        return EXIT.ok;
      }),
    );

  program
    .command('quota')
    .description("today's quota, the backlog, holds, the breaker and the pause")
    .action(
      run(async (client, globals) => {
        const view = await client.call<Parameters<typeof format.quota>[0]>('GET', '/v1/quota');
        if (globals.json) printJson(view);
        else print(format.quota(view));
        return EXIT.ok;
      }),
    );

  waitOptions(
    program
      .command('retry')
      .description("queue a request's failed and rejected paths again (as a new request)")
      .argument('<id>')
      .option('--path <url>', 'only this path (repeatable)', collect)
      .addOption(new Option('--priority <lane>', "the lane (default: the request's)").choices(PRIORITIES)),
  ).action(
    run(async (client, globals, command) => {
      const id = command.processedArgs[0] as string;
      const flags = command.opts<RetryFlags>();
      const answer = await client.call<Accepted>('POST', `/v1/refreshes/${encodeURIComponent(id)}/retry`, {
        ...(flags.path ? { paths: flags.path } : {}),
        ...(flags.priority ? { priority: flags.priority } : {}),
      });
      return finish(client, globals, answer.id, flags, () =>
        globals.json ? printJson(answer) : print(format.accepted(answer)),
      );
    }),
  );

  program
    .command('cancel')
    .description('cancel what is still queued of a request')
    .argument('<id>')
    .action(
      run(async (client, globals, command) => {
        const id = command.processedArgs[0] as string;
        const view = await client.call<Parameters<typeof format.cancel>[0]>(
          'DELETE',
          `/v1/refreshes/${encodeURIComponent(id)}`,
        );
        if (globals.json) printJson(view);
        else print(format.cancel(view));
        return EXIT.ok;
      }),
    );

  program
    .command('pause')
    .description('stop submitting (every worker); intake keeps accepting')
    .option('--reason <text>', 'shown with the pause')
    .action(
      run(async (client, globals, command) => {
        const { reason } = command.opts<{ reason?: string }>();
        const view = await client.call<Parameters<typeof format.pause>[0]>(
          'POST',
          '/v1/admin/pause',
          reason ? { reason } : {},
        );
        if (globals.json) printJson(view);
        else print(format.pause(view));
        return EXIT.ok;
      }),
    );

  program
    .command('resume')
    .description('submit again')
    .action(
      run(async (client, globals) => {
        const view = await client.call<Parameters<typeof format.pause>[0]>('POST', '/v1/admin/resume', {});
        if (globals.json) printJson(view);
        else print(format.pause(view));
        return EXIT.ok;
      }),
    );

  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the command line; resolves to the exit code (commander's usage errors become 2). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = createProgram(io, (exit) => {
    code = exit;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version "fail" with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return code;
}
