import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../src/load-env.js';
import { callbackTargetEnv, csvList, port, positiveInt, quotaEnv, redisEnv } from '../src/index.js';

const schema = z.object({
  ...redisEnv,
  ...quotaEnv,
  PORT: port(8080),
  LIST: csvList(),
  N: positiveInt(5, 10),
});

describe('parseEnv', () => {
  it('applies the documented defaults', () => {
    const env = parseEnv(schema, {});
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REFRESHQ_NAMESPACE: 'refreshq',
      QUOTA_URLS_PER_DAY: 2000,
      QUOTA_DIRS_PER_DAY: 100,
      MAX_URLS_PER_CALL: 1000,
      MAX_DIRS_PER_CALL: 100,
      QUOTA_UTC_OFFSET: '+08:00',
      COALESCE_WINDOW_MS: 1000,
      PORT: 8080,
      LIST: [],
      N: 5,
    });
  });

  it('treats empty values as unset and splits lists', () => {
    expect(parseEnv(schema, { PORT: '', LIST: ' a.com, ,b.com ' })).toMatchObject({
      PORT: 8080,
      LIST: ['a.com', 'b.com'],
    });
  });

  it('names every bad variable and what is allowed, without echoing values', () => {
    try {
      parseEnv(schema, {
        PORT: '70000',
        REDIS_URL: 'http://secret@host',
        QUOTA_UTC_OFFSET: '8',
        N: '11',
        MAX_URLS_PER_CALL: '2000',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain('PORT: must be a whole number from 0 to 65535');
      expect(message).toContain('REDIS_URL: must be a URL starting with redis: or rediss:');
      expect(message).toContain('QUOTA_UTC_OFFSET: must be an offset like +08:00');
      expect(message).toContain('N: must be a whole number from 1 to 10');
      expect(message).toContain('MAX_URLS_PER_CALL: must be a whole number from 1 to 1000');
      expect(message).not.toContain('secret@host');
    }
  });
});

describe('callbackTargetEnv', () => {
  const callbacks = z.object(callbackTargetEnv);

  it('takes host[:port] entries and a true/false opt-in, off by default', () => {
    expect(parseEnv(callbacks, {})).toEqual({ CALLBACK_ALLOWED_HOSTS: [], CALLBACK_ALLOW_PRIVATE: false });
    expect(
      parseEnv(callbacks, {
        CALLBACK_ALLOWED_HOSTS: 'cb.example.com:443, *.hooks.example ,127.0.0.1:4000,[::1]:8080',
        CALLBACK_ALLOW_PRIVATE: 'TRUE',
      }),
    ).toEqual({
      CALLBACK_ALLOWED_HOSTS: ['cb.example.com:443', '*.hooks.example', '127.0.0.1:4000', '[::1]:8080'],
      CALLBACK_ALLOW_PRIVATE: true,
    });
    expect(parseEnv(callbacks, { CALLBACK_ALLOW_PRIVATE: '0' }).CALLBACK_ALLOW_PRIVATE).toBe(false);
  });

  it('names a bad entry or flag without echoing it', () => {
    try {
      parseEnv(callbacks, {
        CALLBACK_ALLOWED_HOSTS: 'https://secret.example/x',
        CALLBACK_ALLOW_PRIVATE: 'yes',
      });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('CALLBACK_ALLOWED_HOSTS');
      expect(message).toContain('host or host:port');
      expect(message).toContain('CALLBACK_ALLOW_PRIVATE: must be true or false');
      expect(message).not.toContain('secret.example');
    }
  });
});
