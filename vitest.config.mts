import { defineConfig } from "vitest/config";

// Pulumi's runtime state (mocks, config, stack) is global: every test file runs in its own
// forked process (isolate on) so one file's setMocks never leaks into another's.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ when stale: the tests also run the compiled bundles (docs/build.md).
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
