import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText } from '../src/index.js';

const SECRET = 'super-secret-value-123';
const KEY_ID = 'LTAI5tSecretKeyId';
const SIGNED_URL = `https://vod.cn-shanghai.aliyuncs.com/?AccessKeyId=${KEY_ID}&Action=RefreshVodObjectCaches&Signature=abc%2Bdef%3D&SignatureNonce=n1&SecurityToken=sts-token-xyz`;

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('secrets never reach a log line', () => {
  it('strips the signed URL pop-core appends to error messages', () => {
    const text = redactText(`Specified signature is not matched, URL: ${SIGNED_URL}`);
    expect(text).toBe('Specified signature is not matched');
  });

  it('masks signature parameters and bearer tokens in free text', () => {
    const text = redactText(`GET ${SIGNED_URL} with Authorization: Bearer abc.def-ghi`);
    expect(text).not.toContain(KEY_ID);
    expect(text).not.toContain('abc%2Bdef');
    expect(text).not.toContain('sts-token-xyz');
    expect(text).not.toContain('abc.def-ghi');
  });

  it('logs a pop-core error and credential fields without any secret', () => {
    const out = capture();
    const logger = createLogger({ name: 't', level: 'info', secrets: [SECRET], destination: out.stream });
    const popCoreError = Object.assign(new Error(`throttled with ${SECRET}, URL: ${SIGNED_URL}`), {
      name: 'ThrottlingError',
      code: 'Throttling',
      url: SIGNED_URL,
      entry: { url: SIGNED_URL },
      data: { RequestId: 'r' },
    });
    logger.error(
      {
        err: popCoreError,
        accessKeySecret: SECRET,
        config: { accessKeySecret: SECRET, securityToken: 'sts-token-xyz' },
        headers: { authorization: 'Bearer tok-123456' },
      },
      'call failed',
    );
    const line = out.text();
    expect(line).toContain('call failed');
    expect(line).toContain('Throttling');
    for (const secret of [SECRET, KEY_ID, 'abc%2Bdef', 'sts-token-xyz', 'tok-123456'])
      expect(line).not.toContain(secret);
  });
});
