import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and fault tests run the compiled broker and CLI as real child processes.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: fault tests that fsync and kill processes must not starve one another.
    maxWorkers: 2,
  },
});
