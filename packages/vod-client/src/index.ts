export * from './upstream-error.js';
export * from './vod-client.js';
