export * from './worker.js';
export * from './env.js';
export * from './dispatcher.js';
export * from './batch-submitter.js';
export * from './worker-metrics.js';
export * from './metrics-server.js';
export * from './callback-sender.js';
export * from './outbound-post.js';
