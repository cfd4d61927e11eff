import { parseAliTime } from './calendar.js';
import { ApiError, missingParameter } from './errors.js';
import { computeSignature, signatureMatches, stringToSign } from './signature.js';
import type { EmulatorState } from './state.js';

/**
 * The RPC gateway checks, in the order the emulator applies them: Action and Version present,
 * Version is 2017-03-21, the Action exists; AccessKeyId, Signature, SignatureMethod
 * (HMAC-SHA1), SignatureVersion (1.0), Timestamp (well formed, within ±15 min of real time),
 * SignatureNonce present; the key is known; the signature matches; the nonce is fresh; an STS
 * key's token is its own and unexpired; the key may call the action (Forbidden.RAM).
 */

export const API_VERSION = '2017-03-21';

export interface VerifiedCall {
  action: string;
  accessKeyId: string;
  params: Readonly<Record<string, string>>;
}

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw missingParameter(name);
  return value;
}

export function verifyCall(
  method: string,
  params: Record<string, string>,
  state: EmulatorState,
  actions: ReadonlySet<string>,
): VerifiedCall {
  const action = required(params, 'Action');
  const version = required(params, 'Version');
  if (version !== API_VERSION) {
    throw new ApiError(
      'InvalidVersion',
      `Specified parameter Version is not valid. The only supported Version is ${API_VERSION}.`,
    );
  }
  if (!actions.has(action)) throw new ApiError('InvalidAction.NotFound');

  const accessKeyId = required(params, 'AccessKeyId');
  const signature = required(params, 'Signature');
  const signatureMethod = required(params, 'SignatureMethod');
  if (signatureMethod !== 'HMAC-SHA1') {
    throw new ApiError(
      'IncompleteSignature',
      `The request signature does not conform to Aliyun standards. SignatureMethod ${signatureMethod} is not supported; use HMAC-SHA1.`,
    );
  }
  const signatureVersion = required(params, 'SignatureVersion');
  if (signatureVersion !== '1.0') {
    throw new ApiError(
      'IncompleteSignature',
      `The request signature does not conform to Aliyun standards. SignatureVersion ${signatureVersion} is not supported; use 1.0.`,
    );
  }
  const timestamp = required(params, 'Timestamp');
  const sentAt = parseAliTime(timestamp);
  if (sentAt === undefined) throw new ApiError('InvalidTimeStamp.Format');
  const wallNow = state.clock.wallNow();
  if (Math.abs(wallNow + state.timestampSkewMs - sentAt) > state.timestampToleranceMs)
    throw new ApiError('InvalidTimeStamp.Expired');
  const nonce = required(params, 'SignatureNonce');

  const secret = state.access.secretOf(accessKeyId, wallNow);
  if (secret === undefined) throw new ApiError('InvalidAccessKeyId.NotFound');
  const expected = computeSignature(method, params, secret);
  if (!signatureMatches(signature, expected)) {
    throw new ApiError(
      'SignatureDoesNotMatch',
      `Specified signature does not match our calculation. server string to sign is:${stringToSign(method, params)}`,
    );
  }
  if (!state.nonces.use(accessKeyId, nonce, wallNow)) throw new ApiError('SignatureNonceUsed');
  state.access.authorize(accessKeyId, params.SecurityToken, action, wallNow);
  return { action, accessKeyId, params };
}
