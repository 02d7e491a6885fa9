import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file gets fresh D1 storage: apply the numbered migrations (migrations/, read and split
// by vitest.config.ts), exactly as `npm run dev` does.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
