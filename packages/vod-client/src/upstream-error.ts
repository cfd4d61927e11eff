import { CREDENTIALS_UNAVAILABLE } from '@refreshq/domain';
import { redactText } from '@refreshq/telemetry';
/**
 * How far a failed call got: `refused` means the upstream answered with an error code (nothing
 * was spent), `not-sent` means the request never reached it, `unknown` means it may have been
 * accepted (timeout, reset, a body that is not JSON).
 */
export type Delivery = 'refused' | 'not-sent' | 'unknown';

/** A failed upstream call, with everything pop-core attached (signed URL, raw entry) left behind. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    message: string,
    readonly delivery: Delivery,
    /** The upstream's error code, or a label of ours for calls that got no answer. */
    readonly code: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** pop-core's signed URL and the caller's credentials go (redactText), and so does any other URL. */
function redactMessage(text: string, secrets: readonly string[]): string {
  return redactText(text, secrets).replace(/https?:\/\/\S+/g, '[url]');
}

/**
 * Turns whatever pop-core threw into an UpstreamError that is safe to log and to show in the
 * status API. `secrets` are the caller's credentials: the upstream echoes the AccessKeyId (in
 * SignatureDoesNotMatch's string to sign, for one), and pop-core the whole signed URL.
 */
export function toUpstreamError(error: unknown, secrets: readonly string[] = []): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const err = error as { name?: unknown; code?: unknown; data?: unknown; message?: unknown } | undefined;
  const data = err?.data as { Code?: unknown; Message?: unknown; RequestId?: unknown } | undefined;
  if (data && typeof data.Code === 'string') {
    const message = typeof data.Message === 'string' ? data.Message : data.Code;
    const requestId = typeof data.RequestId === 'string' ? data.RequestId : undefined;
    return new UpstreamError(redactMessage(message, secrets), 'refused', data.Code, requestId);
  }
  const name = typeof err?.name === 'string' ? err.name : '';
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = redactMessage(typeof err?.message === 'string' ? err.message : String(error), secrets);
  if (name === 'RequestTimeoutError') {
    const beforeSend = message.startsWith('ConnectTimeout');
    return new UpstreamError(
      message,
      beforeSend ? 'not-sent' : 'unknown',
      beforeSend ? 'ConnectTimeout' : 'Timeout',
    );
  }
  if (NOT_SENT.has(code)) return new UpstreamError(message, 'not-sent', 'ConnectionRefused');
  // json-bigint throws a plain object named SyntaxError, not an Error, on a body that is not JSON.
  if (error instanceof SyntaxError || name === 'SyntaxError') {
    return new UpstreamError('upstream answered with a body that is not JSON', 'unknown', 'InvalidResponse');
  }
  return new UpstreamError(message, 'unknown', 'ConnectionError');
}

/** Key–value pairs that carry a credential in the answers and files credential sources read. */
const CREDENTIAL_FIELDS =
  /(["']?(?:AccessKeySecret|SecurityToken|AccessKeyId|access_key_secret|access_key_id|sts_token|oidc_token)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}&]+)/gi;

/**
 * The credential source failed (a credentials URI down, STS refusing, no profile): nothing was
 * sent. Its library puts what it was answered into the message, which may hold a secret.
 */
export function credentialsUnavailable(error: unknown, source: string): UpstreamError {
  const raw = error instanceof Error ? error.message : String(error);
  const safe = redactMessage(raw.replace(CREDENTIAL_FIELDS, '$1[redacted]'), []).slice(0, 300);
  return new UpstreamError(
    `could not get credentials from the ${source} source: ${safe}`,
    'not-sent',
    CREDENTIALS_UNAVAILABLE,
  );
}
