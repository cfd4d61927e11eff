export * from './keyspace.js';
export * from './redis-connection.js';
export * from './lua-scripts.js';
export * from './request-store.js';
export * from './pending-pool.js';
export * from './idempotency-store.js';
export * from './intake-queue.js';
export * from './circuit-breaker.js';
