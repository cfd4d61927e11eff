import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactText } from './redact.js';

export type { Logger } from 'pino';

/** Field paths that may hold a credential anywhere in a log object. */
const REDACT_PATHS = [
  'accessKeySecret',
  'accessKeyId',
  'securityToken',
  'secret',
  'token',
  'tokens',
  'authorization',
  '*.accessKeySecret',
  '*.accessKeyId',
  '*.securityToken',
  '*.secret',
  '*.token',
  '*.tokens',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Keeps only what helps an operator; pop-core errors carry the signed URL in `url`, `entry` and `message`. */
export function serializeError(err: unknown, secrets: readonly string[] = []): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err, message: redactText(String(err), secrets) };
  const code = (err as { code?: unknown }).code;
  const out: SerializedError = { type: err.name, message: redactText(err.message, secrets) };
  if (typeof code === 'string') out.code = code;
  if (err.stack) out.stack = redactText(err.stack, secrets);
  return out;
}

export interface LoggerSettings {
  name: string;
  level?: string;
  /** Literal secret values (e.g. the access key secret) to scrub from error texts. */
  secrets?: readonly string[];
  /** Destination stream, for tests. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const secrets = settings.secrets ?? [];
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: (err: unknown) => serializeError(err, secrets),
      error: (err: unknown) => serializeError(err, secrets),
    },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination as pino.DestinationStream) : pino(options);
}
