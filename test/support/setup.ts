import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file gets fresh D1 storage: apply the numbered migrations (migrations/, read and split
// by vitest.config.ts), exactly as `npm run dev` does.
// Every database: the catalog and the two ledger shards (each has the whole schema).
await Promise.all([env.DB, env.LEDGER_0, env.LEDGER_1].map((db) => applyD1Migrations(db, env.TEST_MIGRATIONS)));
