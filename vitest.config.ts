import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no cluster and runs in seconds; `integration` talks to a real
// kube-apiserver + etcd started once by the global setup (the same code as `mesh dev up`).
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', 'dist/**', '**/*.int.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**', 'dist/**'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // One API server for all files; files run one after another so timing-sensitive
          // tests (leader hand-over, operator restarts) do not fight for 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
