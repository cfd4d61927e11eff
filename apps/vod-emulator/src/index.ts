/** The Alibaba Cloud VOD refresh API emulator: public surface. */
export { createEmulator } from './emulator.js';
export type {
  Emulator,
  EmulatorControls,
  EmulatorSnapshot,
  QuotaPatch,
  QuotaSnapshot,
  StoredTask,
} from './emulator.js';
export { startEmulator } from './start.js';
export type { RunningEmulator, StartOptions } from './start.js';
export { DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, resolveOptions } from './options.js';
export type { Credential, EmulatorOptions, QuotaOptions, TaskTimingOptions } from './options.js';
export type { AccessSnapshot, IssueStsOptions, StsCredential } from './access.js';
export type { AccountState } from './account.js';
export { ACCOUNT_STATES } from './account.js';
export type { DomainState, DomainsOption, DomainsSnapshot } from './domains.js';
export { DOMAIN_STATES } from './domains.js';
export type { FaultConfig, FaultOptions } from './faults.js';
export { NO_FAULTS } from './faults.js';
export type { QuotaLimits, QuotaUsage, QuotaRemaining } from './quota.js';
export { DEFAULT_QUOTA_LIMITS } from './quota.js';
export type { TaskStatus, TaskTiming, TaskView, FailureDescription } from './tasks.js';
export { DEFAULT_TASK_TIMING, FAILURE_DESCRIPTIONS, TASK_STATUSES } from './tasks.js';
export type { PreloadSubmission, Submission } from './submissions.js';
export type { MediaJob, MediaJobEntry, MediaRecord, MediaSpec, PlayUrl } from './media.js';
export { MEDIA_DEFINITIONS, MEDIA_FORMATS, selectPlayUrls } from './media.js';
export type { CallCounts } from './counts.js';
export type { Clock, ClockSnapshot } from './clock.js';
export { API_VERSION } from './protocol.js';
export { ERROR_CATALOG, HOST_ID, PRELOAD_ERROR_CODES, REFRESH_ERROR_CODES } from './errors.js';
export type { ErrorBody, ErrorCode } from './errors.js';
export { canonicalQuery, computeSignature, percentEncode, signParams, stringToSign } from './signature.js';
export { parseEnv, EnvError } from './env.js';
export type { EmulatorEnv } from './env.js';
