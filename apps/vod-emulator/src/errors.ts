/**
 * The error codes the emulator answers with, their HTTP status and message, and the JSON
 * body Alibaba Cloud uses: `{"RequestId","HostId","Code","Message","Recommend"}`.
 */

export const HOST_ID = 'vod.cn-shanghai.aliyuncs.com';

interface ErrorSpec {
  status: number;
  message: string;
}

/** Codes of RefreshVodObjectCaches (the table of vod-api.md) with the documented status. */
const REFRESH_ERRORS = {
  Throttling: { status: 503, message: 'Request was denied due to request throttling.' },
  'QuotaPerMinuteExceeded.Refresh': {
    status: 400,
    message: 'The number of refresh requests submitted within one minute exceeds the upper limit.',
  },
  'QuotaExceeded.Refresh': { status: 400, message: 'Your refresh quota for today has been used up.' },
  ServiceBusy: { status: 403, message: 'The specified Domain is configuring, please retry later.' },
  'InvalidDomain.Configure_failed': { status: 500, message: 'Failed to configure the provided domain.' },
  IllegalOperation: { status: 403, message: 'Illegal domain operate is not permitted.' },
  'InvalidDomain.NotFound': { status: 404, message: 'The domain provided does not belong to you.' },
  'InvalidDomain.Offline': { status: 404, message: 'The domain provided is offline.' },
  'InvalidExtensiveDomain.ValueNotSupported': {
    status: 400,
    message: 'Refreshing a wildcard (extensive) domain is not supported.',
  },
  'InvalidObjectPath.Malformed': { status: 400, message: 'Specified ObjectPath is malformed.' },
  'InvalidObjectType.ValueNotSupported': { status: 400, message: 'Specified ObjectType is not supported.' },
  MissingParameter: {
    status: 400,
    message: 'The input parameter that is mandatory for processing this request is not supplied.',
  },
  OperationDenied: { status: 403, message: 'Your account does not open VOD service yet.' },
  'OperationDenied.Suspended': { status: 403, message: 'Your VOD service is suspended.' },
} as const satisfies Record<string, ErrorSpec>;

/** Codes PreloadVodObjectCaches adds to those above (its reference's error table). */
const PRELOAD_ERRORS = {
  PreloadQueueFull: { status: 403, message: 'Preload queue is full, please try again later!' },
  'InvalidObjectPath.Size.Malformed': { status: 400, message: 'The size of ObjectPath is bigger than 1000.' },
} as const satisfies Record<string, ErrorSpec>;

/** Protocol (gateway) errors: signature, timestamp, nonce, version, action. */
const PROTOCOL_ERRORS = {
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature does not match our calculation.' },
  IncompleteSignature: {
    status: 400,
    message: 'The request signature does not conform to Aliyun standards.',
  },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  'InvalidSecurityToken.MismatchWithAccessKey': {
    status: 400,
    message: 'Specified SecurityToken mismatch with the AccessKey.',
  },
  'Forbidden.RAM': {
    status: 403,
    message: "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
  },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': {
    status: 400,
    message: 'Specified time stamp or date value is not well formatted.',
  },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidAction.NotFound': {
    status: 404,
    message: 'Specified api is not found, please check your url and method.',
  },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
} as const satisfies Record<string, ErrorSpec>;

/** Codes where Alibaba's docs are silent and the emulator had to choose (see README). */
const CHOSEN_ERRORS = {
  'InvalidObjectPath.ExceedLimit': {
    status: 400,
    message: 'The number of ObjectPath entries in one request exceeds the limit.',
  },
  'InvalidTaskId.Malformed': { status: 400, message: 'Specified TaskId is malformed.' },
  'InvalidStatus.ValueNotSupported': { status: 400, message: 'Specified Status is not supported.' },
  'InvalidPageNumber.ValueNotSupported': { status: 400, message: 'Specified PageNumber is not valid.' },
  'InvalidPageSize.ValueNotSupported': {
    status: 400,
    message: 'Specified PageSize is not valid; it must be 1 to 50.',
  },
  'InvalidStartTime.Malformed': { status: 400, message: 'Specified StartTime is malformed.' },
  'InvalidEndTime.Malformed': { status: 400, message: 'Specified EndTime is malformed.' },
  'InvalidStartTime.ValueNotSupported': {
    status: 400,
    message: 'Specified StartTime is not supported; only the last 3 days can be queried.',
  },
  'InvalidEndTime.Mismatch': { status: 400, message: 'Specified EndTime is earlier than StartTime.' },
  'InvalidMediaRefreshJobId.NotFound': {
    status: 404,
    message: 'The specified MediaRefreshJobId does not exist.',
  },
  InternalError: {
    status: 500,
    message: 'The request processing has failed due to some unknown error, exception or failure.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Variants of Throttling that may be injected as faults. */
const THROTTLING_VARIANTS = {
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'Throttling.Api': { status: 400, message: 'Request was denied due to api flow control.' },
} as const satisfies Record<string, ErrorSpec>;

export const ERROR_CATALOG = {
  ...REFRESH_ERRORS,
  ...PRELOAD_ERRORS,
  ...PROTOCOL_ERRORS,
  ...CHOSEN_ERRORS,
  ...THROTTLING_VARIANTS,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const REFRESH_ERROR_CODES = Object.keys(REFRESH_ERRORS) as (keyof typeof REFRESH_ERRORS)[];
export const PRELOAD_ERROR_CODES = Object.keys(PRELOAD_ERRORS) as (keyof typeof PRELOAD_ERRORS)[];
export const THROTTLING_CODES = ['Throttling', 'Throttling.User', 'Throttling.Api'] as const;
export type ThrottlingCode = (typeof THROTTLING_CODES)[number];

/** An answer in Alibaba's error shape. Throw it from any action; the RPC handler renders it. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    status?: number,
  ) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'ApiError';
    this.status = status ?? ERROR_CATALOG[code].status;
  }
}

export function missingParameter(name: string): ApiError {
  return new ApiError(
    'MissingParameter',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

export function invalidParameter(name: string, detail?: string): ApiError {
  return new ApiError(
    'InvalidParameter',
    `The specified parameter "${name}" is not valid.${detail ? ` ${detail}` : ''}`,
  );
}

export interface ErrorBody {
  RequestId: string;
  HostId: string;
  Code: string;
  Message: string;
  Recommend: string;
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return {
    RequestId: requestId,
    HostId: HOST_ID,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=vod&requestId=${requestId}`,
  };
}
