import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";

// The local stand-ins run as an auxiliary worker (see the stand-ins worker, test/support, for why), which
// Miniflare loads as plain JavaScript: bundle it before the pool starts.
const STAND_INS = ".vitest/stand-ins-worker.mjs";
buildSync({
  entryPoints: ["test/support/stand-ins-worker.ts"],
  outfile: STAND_INS,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["cloudflare:*"],
  logLevel: "warning",
});
// Hundreds of lines of expected "injected fault" output (quiet-faults says why) are
// dropped unless SHOW_INJECTED_FAULTS=1.
const INJECTED = "injected fault";
const showInjectedFaults = process.env.SHOW_INJECTED_FAULTS === "1";

const wrangler = readFileSync("wrangler.toml", "utf8");
const compatibilityDate = /^compatibility_date = "([^"]+)"/m.exec(wrangler)![1]!;
const dimensions = /^EMBEDDING_DIMENSIONS = "(\d+)"/m.exec(wrangler)![1]!;
// The numbered migrations, split into statements the way `wrangler d1 migrations apply` splits
// them; the setup file applies them to each test file's fresh D1, as `npm run dev` does.
const migrationsDir = /^migrations_dir = "([^"]+)"/m.exec(wrangler)?.[1] ?? "migrations";
const migrations = await readD1Migrations(migrationsDir);

const workers = {
  plugins: [
    cloudflareTest({
      // The dev environment: real local D1, KV and rate limiter; AI and VECTORIZE rebound below.
      wrangler: { configPath: "./wrangler.toml", environment: "dev" },
      remoteBindings: false,
      miniflare: {
        bindings: {
          ADMIN_TOKEN: "test-admin-token",
          // Upstream retries back off 1 ms, 2 ms, 4 ms in tests instead of 200 ms, 400 ms, 800 ms.
          UPSTREAM_RETRY_BASE_MS: "1",
          TEST_MIGRATIONS: migrations,
          // The readable full schema, which the migrations test compares with the migrations.
          SCHEMA_SQL: readFileSync("schema.sql", "utf8"),
        },
        serviceBindings: {
          AI: { name: "local-stand-ins", entrypoint: "LocalEmbedder" },
          VECTORIZE: { name: "local-stand-ins", entrypoint: "LocalVectorIndex" },
          VECTORIZE_1: { name: "local-stand-ins", entrypoint: "LocalVectorIndex1" },
        },
        workers: [
          {
            name: "local-stand-ins",
            modules: true,
            scriptPath: STAND_INS,
            compatibilityDate,
            bindings: { EMBEDDING_DIMENSIONS: dimensions },
            durableObjects: { LOCAL_VECTOR_STORE: { className: "LocalVectorStore", useSQLite: true } },
          },
        ],
      },
    }),
  ],
  test: {
    name: "workers",
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/support/setup.ts"],
    globalSetup: ["./test/support/quiet-faults.mjs"],
    testTimeout: 30_000,
    onConsoleLog: (log: string) => (showInjectedFaults || !log.includes(INJECTED) ? undefined : false),
  },
};

export default defineConfig({
  test: {
    projects: [
      workers,
      // Tools that run in Node against a real `npm run dev` (the push CLI, the /docs page in a browser).
      { test: { name: "node", include: ["test-node/**/*.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
