/**
 * Upstream codes that say our credentials, permissions, clock or account are wrong: never a
 * path's fault. Gathered from Alibaba Cloud's common (gateway) error codes, which every RPC
 * action may answer before it looks at its parameters. The reaction to them is decided in
 * upstream-reactions.ts; this is the catalogue, with what an operator must fix for each.
 */

export type AccountErrorCause = 'credentials' | 'token' | 'permission' | 'clock' | 'account';

export interface AccountErrorRule {
  /** The code, or with `prefix` every code starting with it. */
  code: string;
  prefix?: true;
  cause: AccountErrorCause;
}

/** Our label for a call that could not be signed: the credential source gave nothing usable. */
export const CREDENTIALS_UNAVAILABLE = 'CredentialsUnavailable';

/** Exact codes first, then prefixes; README "Account errors" lists the same rows. */
export const ACCOUNT_ERROR_RULES: readonly AccountErrorRule[] = [
  { code: 'InvalidAccessKeyId', cause: 'credentials' },
  { code: 'InvalidAccessKeyId.', prefix: true, cause: 'credentials' },
  { code: 'SignatureDoesNotMatch', cause: 'credentials' },
  { code: 'IncompleteSignature', cause: 'credentials' },
  { code: CREDENTIALS_UNAVAILABLE, cause: 'credentials' },
  { code: 'InvalidSecurityToken', cause: 'token' },
  { code: 'InvalidSecurityToken.', prefix: true, cause: 'token' },
  { code: 'Forbidden', prefix: true, cause: 'permission' },
  { code: 'NoPermission', prefix: true, cause: 'permission' },
  { code: 'ActionUnauthorized', cause: 'permission' },
  { code: 'InvalidTimeStamp.Expired', cause: 'clock' },
  { code: 'InsufficientBalance', cause: 'account' },
];

const FIX: Record<AccountErrorCause, string> = {
  credentials:
    'the AccessKey is unknown, disabled or its secret is wrong (a rotated or deleted key?): give the worker valid credentials through its credential source',
  token:
    'the STS token expired, is malformed or belongs to another key: use a source that renews it (ALIBABA_CLOUD_ROLE_ARN, the ECS instance role, ALIBABA_CLOUD_CREDENTIALS_URI); an ALIBABA_CLOUD_SECURITY_TOKEN set once expires',
  permission:
    'the RAM user or role may not call this action: attach the policy in docs/ram-policy.json (vod:RefreshVodObjectCaches, vod:PreloadVodObjectCaches, vod:RefreshMediaPlayUrls, vod:GetMediaRefreshJobs, vod:DescribeVodRefreshTasks, vod:DescribeVodRefreshQuota)',
  clock: "this host's clock is more than 15 minutes off Alibaba Cloud's: synchronise it (NTP, chrony)",
  account: 'the Alibaba Cloud account has no balance: top it up',
};

/** The rule a code falls under, or undefined when it is not an account error. */
export function accountErrorRule(code: string): AccountErrorRule | undefined {
  return (
    ACCOUNT_ERROR_RULES.find((rule) => !rule.prefix && rule.code === code) ??
    ACCOUNT_ERROR_RULES.find((rule) => rule.prefix && code.startsWith(rule.code))
  );
}

/** What an operator must fix for an account error, for log lines; undefined for other codes. */
export function accountErrorFix(code: string): string | undefined {
  const rule = accountErrorRule(code);
  return rule ? FIX[rule.cause] : undefined;
}
