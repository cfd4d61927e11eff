export * from './redis-server-process.js';
export * from './test-namespace.js';
export * from './redis-cluster-process.js';
export * from './redis-sentinel-process.js';
