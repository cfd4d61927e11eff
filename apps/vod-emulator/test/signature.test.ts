import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  computeSignature,
  percentEncode,
  signParams,
  stringToSign,
} from '../src/signature.js';
import { sign } from './helpers.js';

describe('RPC signature (pure)', () => {
  it("matches Alibaba's documented example (DescribeRegions, secret testsecret)", () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    };
    expect(stringToSign('GET', params)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(computeSignature('GET', params, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it("percent-encodes ! ' ( ) * like pop-core and leaves - _ . ~", () => {
    expect(percentEncode("!'()* -_.~/")).toBe('%21%27%28%29%2A%20-_.~%2F');
  });

  it('sorts keys and ignores an existing Signature', () => {
    expect(canonicalQuery({ b: '2', a: '1', Signature: 'x' })).toBe('a=1&b=2');
  });

  it("agrees with the test-side implementation of pop-core's algorithm (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10, unit: 'grapheme' }),
          fc.string({ unit: 'grapheme' }),
          { maxKeys: 8 },
        ),
        fc.constantFrom('GET', 'POST'),
        fc.string({ minLength: 1 }),
        (params, method, secret) => {
          const { Signature: _ignored, ...rest } = params;
          expect(computeSignature(method, rest, secret)).toBe(sign(method, rest, secret));
        },
      ),
    );
  });

  it('changes when any value changes by one character (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), (value, at) => {
        const i = at % value.length;
        const changed = value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) ^ 1) + value.slice(i + 1);
        fc.pre(changed !== value);
        const a = signParams('GET', { ObjectPath: value }, 's');
        const b = signParams('GET', { ObjectPath: changed }, 's');
        expect(a.Signature).not.toBe(b.Signature);
      }),
    );
  });
});
