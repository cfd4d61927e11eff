import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Runs the emulator's tests on their own (no Redis global setup):
//   npx vitest run --config apps/vod-emulator/vitest.config.ts
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
