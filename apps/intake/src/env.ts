import { csvList, logEnv, nonNegativeInt, port, positiveInt, redisEnv } from '@refreshq/config';
import { z } from 'zod';

export const intakeEnvSchema = z.object({
  ...redisEnv,
  ...logEnv,
  PORT: port(8080),
  HOST: z.preprocess((value) => (value === '' ? undefined : value), z.string().default('0.0.0.0')),
  INTAKE_TOKENS: csvList(z.string().min(16, 'each token must be at least 16 characters')),
  ALLOWED_DOMAINS: csvList(
    z
      .string()
      .regex(
        /^(\*\.|\.)?[A-Za-z0-9.-]+$/,
        'each entry must be a host name, optionally starting with *. or .',
      ),
  ),
  CALLBACK_ALLOWED_HOSTS: csvList(
    z
      .string()
      .regex(
        /^(\*\.|\.)?[A-Za-z0-9.-]+$/,
        'each entry must be a host name, optionally starting with *. or .',
      ),
  ),
  MAX_PATHS_PER_REQUEST: positiveInt(1000, 100_000),
  MAX_PATH_LENGTH: positiveInt(1024, 8192),
  MAX_BODY_BYTES: positiveInt(4 * 1024 * 1024, 64 * 1024 * 1024),
  /** YAML or JSON file of the hooks served at POST /v1/hooks/:name; unset = no hooks. */
  WEBHOOKS_FILE: z.preprocess((value) => (value === '' ? undefined : value), z.string().optional()),
  /** How far a webhook's signed timestamp may be from now before it is refused as a replay. */
  WEBHOOK_TOLERANCE_SECONDS: positiveInt(300, 86_400),
  /** Reverse-proxy hops whose X-Forwarded-For is trusted; 0 trusts none. */
  TRUST_PROXY_HOPS: nonNegativeInt(0, 10),
});

export type IntakeEnv = z.output<typeof intakeEnvSchema>;
