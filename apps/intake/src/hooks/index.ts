export * from './delivery.js';
export * from './hook-config.js';
export * from './hooks-route.js';
export * from './map-paths.js';
export * from './presets/index.js';
export * from './templates.js';
