import { parseEnv } from '@refreshq/config';
import { describe, expect, it } from 'vitest';
import { workerEnvSchema } from '../src/env.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    parseEnv(workerEnvSchema, env);
    return [];
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
};

describe('worker environment: any source of the credential chain is enough', () => {
  it('starts with only a credentials URI, only an RRSA role, a role with a key pair, or nothing', () => {
    const kind = (env: Record<string, string>) => parseEnv(workerEnvSchema, env).credentials.kind;
    expect(kind({ ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:8000/creds' })).toBe('credentials_uri');
    expect(
      kind({
        ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/refreshq',
        ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890:oidc-provider/ack-rrsa-c1',
        ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
      }),
    ).toBe('oidc_role_arn');
    expect(
      kind({
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIabcdef',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
        ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/refreshq',
      }),
    ).toBe('ram_role_arn');
    expect(kind({ ALIBABA_CLOUD_ECS_METADATA: 'refreshq-worker' })).toBe('ecs_ram_role');
    expect(kind({})).toBe('default-chain');
  });

  it('names the variable of half a configuration, never its value', () => {
    expect(problems({ ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/refreshq' })).toEqual([
      expect.stringMatching(/^ALIBABA_CLOUD_ROLE_ARN: needs an identity/),
    ]);
    const list = problems({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'do-not-echo-me' });
    expect(list).toEqual([expect.stringMatching(/^ALIBABA_CLOUD_ACCESS_KEY_ID: is required/)]);
    expect(list.join('\n')).not.toContain('do-not-echo-me');
    expect(problems({ ALIBABA_CLOUD_CREDENTIALS_URI: 'file:///etc/creds' })[0]).toMatch(
      /^ALIBABA_CLOUD_CREDENTIALS_URI: must be a URL/,
    );
    expect(
      problems({
        ALIBABA_CLOUD_ECS_METADATA: 'role',
        ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION: '60',
      })[0],
    ).toMatch(/^ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION: must be a whole number of seconds from 900 to 43200/);
  });
});
