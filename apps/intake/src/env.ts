import {
  callbackTargetEnv,
  csvList,
  logEnv,
  nonNegativeInt,
  port,
  positiveInt,
  redisEnv,
  withRedisTarget,
} from '@refreshq/config';
import { z } from 'zod';

export const intakeEnvSchema = z
  .object({
    ...redisEnv,
    ...logEnv,
    PORT: port(8080),
    HOST: z.preprocess((value) => (value === '' ? undefined : value), z.string().default('0.0.0.0')),
    INTAKE_TOKENS: csvList(z.string().min(16, 'each token must be at least 16 characters')),
    /** Tokens for the actions (retry, cancel, pause, resume); unset: the intake tokens do. */
    ADMIN_TOKENS: csvList(z.string().min(16, 'each token must be at least 16 characters')),
    ALLOWED_DOMAINS: csvList(
      z
        .string()
        .regex(
          /^(\*\.|\.)?[A-Za-z0-9.-]+$/,
          'each entry must be a host name, optionally starting with *. or .',
        ),
    ),
    ...callbackTargetEnv,
    MAX_PATHS_PER_REQUEST: positiveInt(1000, 100_000),
    MAX_PATH_LENGTH: positiveInt(1024, 8192),
    MAX_BODY_BYTES: positiveInt(4 * 1024 * 1024, 64 * 1024 * 1024),
    /** Reverse-proxy hops whose X-Forwarded-For is trusted; 0 trusts none. */
    /** YAML or JSON file of the hooks served at POST /v1/hooks/:name; unset = no hooks. */
    WEBHOOKS_FILE: z.preprocess((value) => (value === '' ? undefined : value), z.string().optional()),
    /** How far a webhook's signed timestamp may be from now before it is refused as a replay. */
    WEBHOOK_TOLERANCE_SECONDS: positiveInt(300, 86_400),
    /** Reverse-proxy hops whose X-Forwarded-For is trusted; 0 trusts none. */
    TRUST_PROXY_HOPS: nonNegativeInt(0, 10),
    /** Longest wait for Redis on the request path before 503 (a frozen Redis must not freeze intake). */
    REDIS_COMMAND_TIMEOUT_MS: positiveInt(2000, 60_000),
    /** Time for a client to send the request head (Node's headersTimeout). */
    HTTP_HEADERS_TIMEOUT_MS: positiveInt(10_000, 600_000),
    /** Time for a client to send the whole request, body included (Node's requestTimeout). */
    HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000, 600_000),
    /** How long an idle keep-alive connection stays open; above a load balancer's idle timeout. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(65_000, 600_000),
  })
  .refine((env) => env.HTTP_HEADERS_TIMEOUT_MS <= env.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must not be larger than HTTP_REQUEST_TIMEOUT_MS',
  })
  // The WAIT for replicas is one step of a request: it must end before the request's deadline.
  .refine(
    (env) => env.REDIS_WAIT_REPLICAS === 0 || env.REDIS_WAIT_TIMEOUT_MS < env.REDIS_COMMAND_TIMEOUT_MS,
    {
      path: ['REDIS_WAIT_TIMEOUT_MS'],
      message: 'must be smaller than REDIS_COMMAND_TIMEOUT_MS when REDIS_WAIT_REPLICAS is set',
    },
  )
  .transform(withRedisTarget);

export type IntakeEnv = z.output<typeof intakeEnvSchema>;
