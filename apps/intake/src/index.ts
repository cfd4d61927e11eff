export * from './server.js';
export * from './env.js';
export * from './intake-metrics.js';
export * from './refresh-body.js';
export * from './api-error.js';
export * from './start.js';
export * from './accept-refresh.js';
export * from './hooks/index.js';
