export * from './pending-pool-model.js';
