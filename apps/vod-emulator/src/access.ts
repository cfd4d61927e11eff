import { randomBytes } from 'node:crypto';
import { ApiError } from './errors.js';
import type { Credential } from './options.js';

/** A temporary credential as Alibaba's STS (and a credentials URI) hands it out. */
export interface StsCredential {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  /** `YYYY-MM-DDThh:mm:ssZ`, real (wall) time. */
  Expiration: string;
}

export interface IssueStsOptions {
  /** How long the emulator trusts it, from now (wall time). */
  ttlMs: number;
  /** Actions it may not call (Forbidden.RAM), as a RAM policy without them would. */
  deny?: readonly string[];
}

export interface AccessSnapshot {
  /** Temporary credentials issued and not yet forgotten: ids and expiry, never secrets. */
  sts: { accessKeyId: string; expiration: string; expired: boolean }[];
  /** AccessKeyId → actions it may not call. */
  denied: Record<string, string[]>;
}

interface StsEntry {
  secret: string;
  token: string;
  expiresAt: number;
}

/** Expired STS credentials are forgotten this long after their expiry (their calls then answer NotFound). */
const STS_KEPT_AFTER_EXPIRY_MS = 60 * 60_000;

const randomText = (bytes: number): string => randomBytes(bytes).toString('base64url');

/**
 * Who may call what: the permanent key pairs, STS credentials with an expiry, and actions denied
 * per AccessKeyId (a RAM policy that lacks them). Expiry reads real time, like the Timestamp check.
 */
export class AccessRegistry {
  private readonly permanent: ReadonlyMap<string, string>;
  private readonly sts = new Map<string, StsEntry>();
  private readonly denied = new Map<string, Set<string>>();

  constructor(credentials: readonly Credential[]) {
    this.permanent = new Map(credentials.map((c) => [c.accessKeyId, c.accessKeySecret]));
  }

  /** The secret the signature is checked with; undefined for an unknown key. */
  secretOf(accessKeyId: string, wallNow: number): string | undefined {
    this.forgetOld(wallNow);
    return this.permanent.get(accessKeyId) ?? this.sts.get(accessKeyId)?.secret;
  }

  /**
   * After the signature verified: an STS key needs its own token, unexpired; a permanent key's
   * token is not looked at. Then the key's RAM permissions for the action.
   */
  authorize(accessKeyId: string, securityToken: string | undefined, action: string, wallNow: number): void {
    const entry = this.sts.get(accessKeyId);
    if (entry) {
      if (securityToken === undefined || securityToken === '')
        throw new ApiError('InvalidSecurityToken.MismatchWithAccessKey');
      if (securityToken !== entry.token) throw new ApiError('InvalidSecurityToken.MismatchWithAccessKey');
      if (wallNow >= entry.expiresAt) throw new ApiError('InvalidSecurityToken.Expired');
    }
    if (this.denied.get(accessKeyId)?.has(action)) throw new ApiError('Forbidden.RAM');
  }

  issueSts(options: IssueStsOptions, wallNow: number): StsCredential {
    const accessKeyId = `STS.${randomText(18)}`;
    // On a whole second, so the Expiration handed out is exactly when it stops working.
    const entry: StsEntry = {
      secret: randomText(24),
      token: randomText(48),
      expiresAt: Math.floor((wallNow + options.ttlMs) / 1000) * 1000,
    };
    this.sts.set(accessKeyId, entry);
    if (options.deny && options.deny.length > 0) this.setDenied(accessKeyId, options.deny);
    return {
      AccessKeyId: accessKeyId,
      AccessKeySecret: entry.secret,
      SecurityToken: entry.token,
      Expiration: aliTime(entry.expiresAt),
    };
  }

  /** Replaces the actions `accessKeyId` may not call; an empty list grants everything again. */
  setDenied(accessKeyId: string, actions: readonly string[]): void {
    if (actions.length === 0) this.denied.delete(accessKeyId);
    else this.denied.set(accessKeyId, new Set(actions));
  }

  snapshot(wallNow: number): AccessSnapshot {
    this.forgetOld(wallNow);
    return {
      sts: [...this.sts].map(([accessKeyId, entry]) => ({
        accessKeyId,
        expiration: aliTime(entry.expiresAt),
        expired: wallNow >= entry.expiresAt,
      })),
      denied: Object.fromEntries([...this.denied].map(([key, actions]) => [key, [...actions]])),
    };
  }

  /** Forgets every STS credential and every denial. */
  clear(): void {
    this.sts.clear();
    this.denied.clear();
  }

  private forgetOld(wallNow: number): void {
    for (const [key, entry] of this.sts) {
      if (wallNow - entry.expiresAt > STS_KEPT_AFTER_EXPIRY_MS) {
        this.sts.delete(key);
        this.denied.delete(key);
      }
    }
  }
}

/** Epoch ms as `YYYY-MM-DDThh:mm:ssZ` (Alibaba's STS Expiration format). */
function aliTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
