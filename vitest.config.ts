import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      // The dev environment: real local D1, KV and rate limiter, plus the local stand-ins.
      wrangler: { configPath: "./wrangler.toml", environment: "dev" },
      remoteBindings: false,
      miniflare: {
        bindings: {
          ADMIN_TOKEN: "test-admin-token",
          // Upstream retries back off 1 ms, 2 ms, 4 ms in tests instead of 200 ms, 400 ms, 800 ms.
          UPSTREAM_RETRY_BASE_MS: "1",
          SCHEMA_SQL: readFileSync("schema.sql", "utf8"),
        },
      },
    }),
  ],
  test: {
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
  },
});
