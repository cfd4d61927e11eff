import {
  type CredentialsProvider,
  DefaultCredentialsProvider,
  ECSRAMRoleCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  RAMRoleARNCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
  URICredentialsProvider,
} from '@alicloud/credentials';

/** What one call is signed with. */
export interface VodCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/**
 * Where the credentials come from, decided once from the environment (credentialSettingsFromEnv).
 * Each kind is one of @alicloud/credentials' providers; `default-chain` is its own chain (the
 * CLI's and the SDK's profile files, then the ECS instance's RAM role found through metadata).
 */
export type CredentialSettings =
  | { kind: 'access_key'; accessKeyId: string; accessKeySecret: string }
  | { kind: 'sts'; accessKeyId: string; accessKeySecret: string; securityToken: string }
  | {
      kind: 'ram_role_arn';
      roleArn: string;
      roleSessionName: string;
      durationSeconds: number;
      stsEndpoint?: string;
      /** The identity that assumes the role. */
      base: VodCredentials;
    }
  | {
      kind: 'oidc_role_arn';
      roleArn: string;
      oidcProviderArn: string;
      oidcTokenFile: string;
      roleSessionName: string;
      durationSeconds: number;
      stsEndpoint?: string;
    }
  | { kind: 'ecs_ram_role'; roleName: string }
  | { kind: 'credentials_uri'; uri: string }
  | { kind: 'default-chain' };

/** The variables that choose a source; the names are Alibaba Cloud's own. */
export interface CredentialEnv {
  ALIBABA_CLOUD_ACCESS_KEY_ID?: string | undefined;
  ALIBABA_CLOUD_ACCESS_KEY_SECRET?: string | undefined;
  ALIBABA_CLOUD_SECURITY_TOKEN?: string | undefined;
  ALIBABA_CLOUD_ROLE_ARN?: string | undefined;
  ALIBABA_CLOUD_ROLE_SESSION_NAME?: string | undefined;
  ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION?: number | undefined;
  ALIBABA_CLOUD_STS_ENDPOINT?: string | undefined;
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN?: string | undefined;
  ALIBABA_CLOUD_OIDC_TOKEN_FILE?: string | undefined;
  ALIBABA_CLOUD_ECS_METADATA?: string | undefined;
  ALIBABA_CLOUD_CREDENTIALS_URI?: string | undefined;
}

export const DEFAULT_ROLE_SESSION_NAME = 'refreshq';
export const DEFAULT_ROLE_SESSION_SECONDS = 3600;

export interface CredentialProblem {
  variable: keyof CredentialEnv;
  message: string;
}

/**
 * Picks the credential source from the environment; the first that is configured wins:
 * the OIDC role of an ACK pod (RRSA), a RAM role assumed with the AccessKey pair, the AccessKey
 * pair itself (STS with a token), the ECS instance's named RAM role, a credentials URI, and
 * otherwise Alibaba's default chain. Half a configuration is a problem, never a silent fallback.
 */
export function credentialSettingsFromEnv(
  env: CredentialEnv,
): { settings: CredentialSettings; problems: [] } | { settings?: undefined; problems: CredentialProblem[] } {
  const problems: CredentialProblem[] = [];
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN;
  if (id && !secret)
    problems.push({
      variable: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      message: 'is required with ALIBABA_CLOUD_ACCESS_KEY_ID',
    });
  if (secret && !id)
    problems.push({
      variable: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
      message: 'is required with ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    });
  if (token && !(id && secret))
    problems.push({
      variable: 'ALIBABA_CLOUD_SECURITY_TOKEN',
      message: 'needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (the STS key pair)',
    });
  const provider = env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN;
  const tokenFile = env.ALIBABA_CLOUD_OIDC_TOKEN_FILE;
  const roleArn = env.ALIBABA_CLOUD_ROLE_ARN;
  if ((provider || tokenFile) && !(provider && tokenFile && roleArn)) {
    for (const variable of [
      'ALIBABA_CLOUD_ROLE_ARN',
      'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
      'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    ] as const)
      if (!env[variable])
        problems.push({ variable, message: 'is required for the OIDC role (RRSA), with the other two' });
  }
  if (roleArn && !(provider || tokenFile) && !(id && secret))
    problems.push({
      variable: 'ALIBABA_CLOUD_ROLE_ARN',
      message:
        'needs an identity to assume it: ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET, or ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    });
  if (problems.length > 0) return { problems };

  const session = {
    roleSessionName: env.ALIBABA_CLOUD_ROLE_SESSION_NAME ?? DEFAULT_ROLE_SESSION_NAME,
    durationSeconds: env.ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION ?? DEFAULT_ROLE_SESSION_SECONDS,
    ...(env.ALIBABA_CLOUD_STS_ENDPOINT ? { stsEndpoint: env.ALIBABA_CLOUD_STS_ENDPOINT } : {}),
  };
  const pair = id && secret ? { accessKeyId: id, accessKeySecret: secret } : undefined;
  const settings: CredentialSettings =
    roleArn && provider && tokenFile
      ? { kind: 'oidc_role_arn', roleArn, oidcProviderArn: provider, oidcTokenFile: tokenFile, ...session }
      : roleArn && pair
        ? {
            kind: 'ram_role_arn',
            roleArn,
            ...session,
            base: token ? { ...pair, securityToken: token } : pair,
          }
        : pair
          ? token
            ? { kind: 'sts', ...pair, securityToken: token }
            : { kind: 'access_key', ...pair }
          : env.ALIBABA_CLOUD_ECS_METADATA
            ? { kind: 'ecs_ram_role', roleName: env.ALIBABA_CLOUD_ECS_METADATA }
            : env.ALIBABA_CLOUD_CREDENTIALS_URI
              ? { kind: 'credentials_uri', uri: env.ALIBABA_CLOUD_CREDENTIALS_URI }
              : { kind: 'default-chain' };
  return { settings, problems: [] };
}

/** A line for the start log: the kind of source and its non-secret settings. */
export function describeCredentialSettings(settings: CredentialSettings): Record<string, string | number> {
  switch (settings.kind) {
    case 'access_key':
    case 'sts':
      return { provider: settings.kind, maskedAccessKeyId: maskAccessKeyId(settings.accessKeyId) };
    case 'ram_role_arn':
      return {
        provider: settings.kind,
        roleArn: settings.roleArn,
        roleSessionName: settings.roleSessionName,
        durationSeconds: settings.durationSeconds,
        assumedWithAccessKeyId: maskAccessKeyId(settings.base.accessKeyId),
      };
    case 'oidc_role_arn':
      return {
        provider: settings.kind,
        roleArn: settings.roleArn,
        oidcProviderArn: settings.oidcProviderArn,
        oidcTokenFile: settings.oidcTokenFile,
        roleSessionName: settings.roleSessionName,
        durationSeconds: settings.durationSeconds,
      };
    case 'ecs_ram_role':
      return { provider: settings.kind, roleName: settings.roleName };
    case 'credentials_uri':
      return { provider: settings.kind, uri: withoutUserInfoOrQuery(settings.uri) };
    case 'default-chain':
      return { provider: settings.kind };
  }
}

/** `LTAI****0001`: enough to tell keys apart in a log, never the whole id. */
export function maskAccessKeyId(id: string): string {
  return id.length <= 8 ? '****' : `${id.slice(0, 4)}****${id.slice(-4)}`;
}

/** A credentials URI may carry a token in its user info or query; the log gets neither. */
function withoutUserInfoOrQuery(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '[unparsable URI]';
  }
}

/**
 * The credentials every call is signed with, from one of @alicloud/credentials' providers. The
 * provider caches what it fetched and fetches again before it expires (STS: within 15 minutes
 * of the expiry, as Alibaba's SDKs do); refresh() drops the cache at once, after the upstream
 * refused what we signed with.
 */
export class CredentialSource {
  private provider: CredentialsProvider;
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly settings: CredentialSettings,
    /** Refreshes closer together are skipped: an account error on every call must not hammer STS. */
    private readonly minRefreshIntervalMs = 5000,
  ) {
    this.provider = buildProvider(settings);
  }

  /** Static credentials, for tests and the development key pair. */
  static of(credentials: VodCredentials): CredentialSource {
    return new CredentialSource(
      credentials.securityToken
        ? {
            kind: 'sts',
            accessKeyId: credentials.accessKeyId,
            accessKeySecret: credentials.accessKeySecret,
            securityToken: credentials.securityToken,
          }
        : { kind: 'access_key', ...credentials },
    );
  }

  async get(): Promise<VodCredentials> {
    const { accessKeyId, accessKeySecret, securityToken } = await this.provider.getCredentials();
    if (!accessKeyId || !accessKeySecret)
      throw new Error(`the ${this.settings.kind} credential source gave no AccessKey pair`);
    return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
  }

  /** Forgets the cached credentials, so the next get() asks the source anew; false if done just before. */
  refresh(): boolean {
    const now = performance.now();
    if (now - this.refreshedAt < this.minRefreshIntervalMs) return false;
    this.refreshedAt = now;
    this.provider = buildProvider(this.settings);
    return true;
  }
}

function staticProvider(credentials: VodCredentials): CredentialsProvider {
  return credentials.securityToken
    ? StaticSTSCredentialsProvider.builder()
        .withAccessKeyId(credentials.accessKeyId)
        .withAccessKeySecret(credentials.accessKeySecret)
        .withSecurityToken(credentials.securityToken)
        .build()
    : StaticAKCredentialsProvider.builder()
        .withAccessKeyId(credentials.accessKeyId)
        .withAccessKeySecret(credentials.accessKeySecret)
        .build();
}

function buildProvider(settings: CredentialSettings): CredentialsProvider {
  switch (settings.kind) {
    case 'access_key':
    case 'sts':
      return staticProvider(settings);
    case 'ram_role_arn': {
      const builder = RAMRoleARNCredentialsProvider.builder()
        .withCredentialsProvider(staticProvider(settings.base))
        .withRoleArn(settings.roleArn)
        .withRoleSessionName(settings.roleSessionName)
        .withDurationSeconds(settings.durationSeconds);
      return (settings.stsEndpoint ? builder.withStsEndpoint(settings.stsEndpoint) : builder).build();
    }
    case 'oidc_role_arn': {
      const builder = OIDCRoleArnCredentialsProvider.builder()
        .withRoleArn(settings.roleArn)
        .withOIDCProviderArn(settings.oidcProviderArn)
        .withOIDCTokenFilePath(settings.oidcTokenFile)
        .withRoleSessionName(settings.roleSessionName)
        .withDurationSeconds(settings.durationSeconds);
      return (settings.stsEndpoint ? builder.withStsEndpoint(settings.stsEndpoint) : builder).build();
    }
    case 'ecs_ram_role':
      return ECSRAMRoleCredentialsProvider.builder().withRoleName(settings.roleName).build();
    case 'credentials_uri':
      return URICredentialsProvider.builder().withCredentialsURI(settings.uri).build();
    case 'default-chain':
      return DefaultCredentialsProvider.builder().build();
  }
}
