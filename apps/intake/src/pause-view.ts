import type { PauseState } from '@refreshq/store';

export interface PauseView {
  paused: boolean;
  since?: string;
  reason?: string;
}

/** How the pause shows in answers (admin actions, GET /v1/quota, /readyz). */
export function pauseView(state: PauseState | undefined): PauseView {
  if (!state) return { paused: false };
  return {
    paused: true,
    ...(state.since > 0 ? { since: new Date(state.since).toISOString() } : {}),
    ...(state.reason ? { reason: state.reason } : {}),
  };
}
