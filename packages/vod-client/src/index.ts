export * from './credentials.js';
export * from './upstream-error.js';
export * from './vod-client.js';
