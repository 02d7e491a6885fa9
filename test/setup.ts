import { env } from "cloudflare:workers";

// Each test file gets fresh D1 storage: apply schema.sql, exactly as `npm run dev` does.
const statements = env.SCHEMA_SQL.split(/;\s*$/m)
  .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
  .filter(Boolean);
await env.DB.batch(statements.map((sql) => env.DB.prepare(sql)));
