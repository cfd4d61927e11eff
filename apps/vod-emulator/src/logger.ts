import { pino, type Logger } from 'pino';

export interface LoggerSettings {
  logger?: Logger;
  silent?: boolean;
  logLevel?: string;
}

/** The request logger: the one given, or pino JSON on stdout (level `silent` when asked). */
export function createLogger(settings: LoggerSettings): Logger {
  if (settings.logger) return settings.logger;
  return pino({
    name: 'vod-emulator',
    level: settings.silent ? 'silent' : (settings.logLevel ?? 'info'),
    // The emulator never logs request parameters; these paths are a second line of defence.
    redact: {
      paths: ['Signature', '*.Signature', 'accessKeySecret', '*.accessKeySecret', 'secret'],
      censor: '[redacted]',
    },
  });
}

/** `LTAI****0001`: enough to tell keys apart in a log, not the whole id. */
export function maskAccessKeyId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (id.length <= 8) return '****';
  return `${id.slice(0, 4)}****${id.slice(-4)}`;
}
