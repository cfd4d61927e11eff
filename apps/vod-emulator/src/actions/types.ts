import type { VerifiedCall } from '../protocol.js';
import type { EmulatorState } from '../state.js';

export interface ActionContext {
  state: EmulatorState;
  call: VerifiedCall;
  requestId: string;
}

export interface ActionResult {
  /** Success body without RequestId (the handler adds it). */
  body: Record<string, unknown>;
  /** What the call recorded, when it was accepted: marked `lost` when a fault drops the answer. */
  submission?: { answer: 'sent' | 'lost'; paths: readonly string[] };
}

export type ActionHandler = (ctx: ActionContext) => ActionResult;
