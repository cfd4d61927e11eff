import type { VerifiedCall } from '../protocol.js';
import type { EmulatorState } from '../state.js';
import type { Submission } from '../submissions.js';

export interface ActionContext {
  state: EmulatorState;
  call: VerifiedCall;
  requestId: string;
}

export interface ActionResult {
  /** Success body without RequestId (the handler adds it). */
  body: Record<string, unknown>;
  /** The accepted submission, when the action records one. */
  submission?: Submission;
}

export type ActionHandler = (ctx: ActionContext) => ActionResult;
