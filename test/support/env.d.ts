import type { Bindings } from "../../src/env";

declare global {
  namespace Cloudflare {
    // Test-only bindings (vitest.config.ts) on top of the worker's own.
    interface Env extends Bindings {
      SCHEMA_SQL: string;
      /** The second local ledger shard and vector index (wrangler.toml [env.dev]). */
      LEDGER_1: D1Database;
      VECTORIZE_1: import("../../src/vectors/index-writer").VectorIndexBinding;
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import("../../src/dev-entry");
    }
  }
}
