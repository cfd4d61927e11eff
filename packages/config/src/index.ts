export * from './env-fields.js';
export * from './load-env.js';
export * from './shared-env.js';
export * from './redis-target.js';
