import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { accountError } from './account.js';
import { countCall } from './counts.js';
import { ACTIONS, ACTION_NAMES } from './actions/index.js';
import { ApiError, errorBody } from './errors.js';
import type { HeldResponses } from './held.js';
import { maskAccessKeyId } from './logger.js';
import { verifyCall } from './protocol.js';
import { admitCall } from './rate-limit.js';
import { delay, sendHtmlError, sendJson } from './responses.js';
import { readRpcParams } from './rpc-params.js';
import type { EmulatorState } from './state.js';

/**
 * The RPC endpoint (`GET /` or `POST /`): gateway checks, injected faults, call-rate limit,
 * account state, then the action. Logs one line per request; never a parameter value.
 */
export function createRpcHandler(state: EmulatorState, logger: Logger, held: HeldResponses): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID().toUpperCase();
    let action = '(none)';
    let accessKeyId: string | undefined;
    const line = (fields: Record<string, unknown>): void => {
      logger.info(
        {
          requestId,
          method: req.method,
          action,
          accessKeyId: maskAccessKeyId(accessKeyId),
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...fields,
        },
        'rpc request',
      );
    };
    const count = (outcome: string): void => countCall(state.counts, action, outcome);
    const fail = async (error: ApiError, latencyMs: number, detail?: string): Promise<void> => {
      await delay(latencyMs);
      count(error.code);
      sendJson(res, error.status, errorBody(error, requestId), requestId);
      line({ code: error.code, status: error.status, ...(detail && { detail }) });
    };

    let latencyMs = 0;
    try {
      const params = readRpcParams(req);
      accessKeyId = params.AccessKeyId;
      if (params.Action !== undefined) action = ACTION_NAMES.has(params.Action) ? params.Action : '(unknown)';
      const call = verifyCall(req.method, params, state, ACTION_NAMES);
      latencyMs = state.faults.latency(action);

      const fault = state.faults.pick(action);
      if (fault === 'timeout') {
        held.hold(res);
        count('fault:timeout');
        line({ code: null, status: null, fault: 'timeout' });
        return;
      }
      if (fault === 'reset') {
        await delay(latencyMs);
        count('fault:reset');
        req.socket.destroy();
        line({ code: null, status: null, fault: 'reset' });
        return;
      }
      if (fault === 'serverError') {
        await delay(latencyMs);
        const status = state.faults.serverErrorStatus;
        count('fault:serverError');
        sendHtmlError(res, status);
        line({ code: null, status, fault: 'serverError' });
        return;
      }
      if (fault === 'throttle') {
        const { code, status } = state.faults.throttle;
        await fail(new ApiError(code, undefined, status ?? undefined), latencyMs, 'fault: throttle');
        return;
      }

      const spec = ACTIONS[action];
      if (!spec) throw new ApiError('InvalidAction.NotFound');
      const admission = admitCall(state.rateWindow(action), state.clock.now(), spec.rateLimit(state.limits));
      state.rateWindows.set(action, admission.window);
      if (!admission.admitted) throw new ApiError('Throttling');
      const denied = accountError(state.account);
      if (denied) throw new ApiError(denied);

      const result = spec.handler({ state, call, requestId });

      const lost = state.faults.pickLostAnswer(action);
      if (lost) {
        if (result.submission) {
          result.submission.answer = 'lost';
          state.counts.lostAnswers++;
        }
        count(`fault:lostAnswer`);
        line({ code: 'OK', status: null, fault: `lostAnswer:${lost}` });
        if (lost === 'timeout') held.hold(res);
        else {
          await delay(latencyMs);
          req.socket.destroy();
        }
        return;
      }

      await delay(latencyMs);
      count('OK');
      sendJson(res, 200, { RequestId: requestId, ...result.body }, requestId);
      line({ code: 'OK', status: 200, ...(result.submission && { paths: result.submission.paths.length }) });
    } catch (error) {
      if (error instanceof ApiError) {
        await fail(error, latencyMs);
        return;
      }
      logger.error({ requestId, action, err: error }, 'unexpected error');
      await fail(new ApiError('InternalError'), 0);
    }
  };
}

/** Any method or path the RPC endpoint does not serve. */
export function notFoundHandler(logger: Logger): RequestHandler {
  return (req, res) => {
    const requestId = randomUUID().toUpperCase();
    const error = new ApiError('InvalidAction.NotFound');
    sendJson(res, error.status, errorBody(error, requestId), requestId);
    logger.info(
      { requestId, method: req.method, path: req.path, code: error.code, status: error.status },
      'rpc request',
    );
  };
}
