import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // A test that makes no assertion fails (it could not have failed otherwise).
    expect: { requireAssertions: true },
  },
});
