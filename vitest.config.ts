import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import LongestFirst from './tests/support/sequencer';

export default defineConfig({
  // The app's Svelte plugin: a test renders the app's result views (tests/core/metric-labels.test.ts).
  plugins: [svelte()],
  test: {
    include: ['tests/core/**/*.test.ts', 'tests/hosts/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/support/setup.ts'],
    // The bundled `plumbline` command the process tests start (tests/support/global-setup.ts).
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // One fork keeps the modules it loaded from file to file (the core is imported once per fork, not
    // once per file); the tests leave no state behind that another file reads (each works in its own
    // temporary folder, and runCli restores the environment and working directory).
    isolate: false,
    // Three forks on two cores: the registry, package and PostgreSQL tests wait on other processes much of the time.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    // A test that makes no assertion fails (it could not have failed otherwise).
    expect: { requireAssertions: true },
  },
});
