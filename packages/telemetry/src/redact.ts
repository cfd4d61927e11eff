/** Query parameters of a signed Alibaba Cloud request that must never be shown. */
const SECRET_PARAMS = ['Signature', 'AccessKeyId', 'SecurityToken', 'SignatureNonce', 'AccessKeySecret'];
const SECRET_PARAM = new RegExp(`([?&](?:${SECRET_PARAMS.join('|')})=)[^&\\s"']*`, 'gi');
/** pop-core appends `, URL: <signed url>` to its error messages. */
const SIGNED_URL_SUFFIX = /,?\s*URL:\s*\S+/g;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

export const REDACTED = '[redacted]';

/** Strips signed URLs, signature parameters and bearer tokens from free text. */
export function redactText(text: string, extraSecrets: readonly string[] = []): string {
  let out = text
    .replace(SIGNED_URL_SUFFIX, '')
    .replace(SECRET_PARAM, `$1${REDACTED}`)
    .replace(BEARER, `$1${REDACTED}`);
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
