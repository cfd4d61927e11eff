import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../src/env.js';

function problems(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  throw new Error('expected EnvError');
}

describe('env', () => {
  it('has the documented defaults', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ port: 9300, host: '127.0.0.1', logLevel: 'info', usesDevCredentials: true });
    expect(env.options.credentials).toBeUndefined();
    expect(env.options.domains).toBeUndefined();
    expect(env.options.quotas).toEqual({
      urlsPerDay: 2000,
      dirsPerDay: 100,
      urlsPerMinute: null,
      dirsPerMinute: null,
      maxUrlsPerCall: 1000,
      maxDirsPerCall: 100,
      callsPerSecond: null,
      describeCallsPerSecond: null,
      preloadPerDay: 500,
      blockPerDay: 500,
      maxPreloadsPerCall: 1000,
      preloadQueueLimit: null,
      preloadCallsPerSecond: null,
      mediaCallsPerSecond: 50,
      mediaJobCallsPerSecond: 50,
    });
    expect(env.options.quotaUtcOffsetMinutes).toBe(480);
    expect(env.options.tasks).toEqual({
      pendingMs: 1000,
      completeAfterMs: 5000,
      failureRate: 0,
      unlistedRate: 0,
      seed: 1,
      mediaSubmitMs: 500,
    });
    expect(env.options.faults).toMatchObject({
      latencyMs: 0,
      throttleRate: 0,
      lostAnswerMode: 'reset',
      actions: [],
    });
  });

  it('reads every setting', () => {
    const env = parseEnv({
      EMULATOR_PORT: '0',
      EMULATOR_HOST: '0.0.0.0',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIreal',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'real-secret',
      EMULATOR_DOMAINS: 'a.example.com, B.example.com=offline,c.example.com=configure-failed',
      EMULATOR_ACCOUNT_STATE: 'in-arrears',
      EMULATOR_URLS_PER_MINUTE: '100',
      EMULATOR_DIRS_PER_MINUTE: 'off',
      EMULATOR_CALLS_PER_SECOND: '30',
      EMULATOR_QUOTA_UTC_OFFSET: '+00:00',
      EMULATOR_TASK_FAILURE_RATE: '0.25',
      EMULATOR_FAULT_THROTTLE_RATE: '0.1',
      EMULATOR_FAULT_ACTIONS: 'RefreshVodObjectCaches',
      EMULATOR_FAULT_THROTTLE_STATUS: '429',
      EMULATOR_LOG_LEVEL: 'silent',
    });
    expect(env).toMatchObject({ port: 0, host: '0.0.0.0', usesDevCredentials: false, logLevel: 'silent' });
    expect(env.options.credentials).toEqual([{ accessKeyId: 'LTAIreal', accessKeySecret: 'real-secret' }]);
    expect(env.options.domains).toEqual({
      'a.example.com': 'online',
      'b.example.com': 'offline',
      'c.example.com': 'configure-failed',
    });
    expect(env.options.account).toBe('in-arrears');
    expect(env.options.quotas).toMatchObject({ urlsPerMinute: 100, dirsPerMinute: null, callsPerSecond: 30 });
    expect(env.options.quotaUtcOffsetMinutes).toBe(0);
    expect(env.options.tasks?.failureRate).toBe(0.25);
    expect(env.options.faults).toMatchObject({
      throttleRate: 0.1,
      actions: ['RefreshVodObjectCaches'],
      throttleStatus: 429,
    });
  });

  it('treats empty values as unset', () => {
    expect(parseEnv({ EMULATOR_PORT: '', EMULATOR_DOMAINS: ' ' })).toMatchObject({
      port: 9300,
      options: { domains: undefined },
    });
  });

  it('names each bad variable and what is allowed', () => {
    const list = problems({
      EMULATOR_PORT: 'abc',
      EMULATOR_URLS_PER_DAY: '-1',
      EMULATOR_URLS_PER_MINUTE: 'lots',
      EMULATOR_TASK_FAILURE_RATE: '1.5',
      EMULATOR_DOMAINS: 'a.com=sleeping',
      EMULATOR_ACCOUNT_STATE: 'closed',
      EMULATOR_QUOTA_UTC_OFFSET: 'Asia/Shanghai',
      EMULATOR_LOG_LEVEL: 'loud',
    });
    const text = list.join('\n');
    for (const name of [
      'EMULATOR_PORT: must be a whole number from 0 to 65535 (got "abc")',
      'EMULATOR_URLS_PER_DAY: must be a whole number',
      'EMULATOR_URLS_PER_MINUTE: must be "off" or a whole number',
      'EMULATOR_TASK_FAILURE_RATE: must be a share from 0 to 1',
      'EMULATOR_DOMAINS: "a.com=sleeping" is not',
      'EMULATOR_ACCOUNT_STATE: must be one of: active, not-activated, in-arrears',
      'EMULATOR_QUOTA_UTC_OFFSET: must be a UTC offset',
      'EMULATOR_LOG_LEVEL: must be one of',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('wants both key variables or neither, and never echoes a secret', () => {
    const list = problems({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'super-secret-value' });
    expect(list.join('\n')).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID: set both');
    expect(list.join('\n')).not.toContain('super-secret-value');
  });
});
