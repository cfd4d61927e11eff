export * from './refresh-types.js';
export * from './paths.js';
export * from './allowed-domains.js';
export * from './upstream-reactions.js';
export * from './backoff.js';
export * from './quota-day.js';
export * from './task-ids.js';
export * from './path-status.js';
