import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs Node's platform (the engine core asks it for cores, workers, memory).
    setupFiles: ['test/support/setup-platform.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
