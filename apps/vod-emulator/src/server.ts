import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { createControlApi } from './control-api.js';
import type { EmulatorControls } from './emulator.js';
import { ApiError, errorBody } from './errors.js';
import type { HeldResponses } from './held.js';
import { sendJson } from './responses.js';
import { createRpcHandler, notFoundHandler } from './rpc.js';

/** The express application: the RPC endpoint at `/`, the control API under `/_emulator/`. */
export function createApp(emulator: EmulatorControls, held: HeldResponses): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use('/_emulator', createControlApi(emulator));

  // The form body is kept as text and parsed like the query string, so both are read alike.
  const formBody = express.text({ type: 'application/x-www-form-urlencoded', limit: '10mb' });
  const rpc = createRpcHandler(emulator.state, emulator.logger, held);
  app.get('/', rpc);
  app.post('/', formBody, rpc);
  app.use(notFoundHandler(emulator.logger));

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = randomUUID().toUpperCase();
    const status =
      typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
    const apiError =
      status < 500
        ? new ApiError('InvalidParameter', 'The request body could not be read.', status)
        : new ApiError('InternalError');
    emulator.logger.warn({ requestId, status: apiError.status, code: apiError.code }, 'rpc request rejected');
    sendJson(res, apiError.status, errorBody(apiError, requestId), requestId);
  });
  return app;
}
