export * from './redis-server-process.js';
export * from './test-namespace.js';
