import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// The numbered migrations (migrations/, applied by npm run dev, the tests and a deploy) and the
// readable full schema (schema.sql) must describe the same database.

/** CREATE text as SQLite keeps it, without comments and with whitespace made uniform. */
function normalise(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*([(),;])\s*/g, "$1")
    .trim();
}

/** Every table, index, view and trigger of the database but D1's and SQLite's own. */
async function schemaOf(db: D1Database) {
  const { results } = await db
    .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master
              WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name <> 'd1_migrations'
              ORDER BY type, name`)
    .all<{ type: string; name: string; tbl_name: string; sql: string | null }>();
  return results.map((r) => ({ ...r, sql: r.sql === null ? null : normalise(r.sql) }));
}

/** Drops everything schemaOf lists, and the migrations' record. */
async function dropAll(db: D1Database) {
  const objects = await schemaOf(db);
  const drops = [
    ...objects.filter((o) => o.type === "view").map((o) => `DROP VIEW "${o.name}"`),
    ...objects.filter((o) => o.type === "table").map((o) => `DROP TABLE "${o.name}"`),
    "DROP TABLE IF EXISTS d1_migrations",
  ];
  await db.batch(drops.map((sql) => db.prepare(sql)));
  expect(await schemaOf(db)).toEqual([]);
}

async function apply(db: D1Database, queries: string[]) {
  await db.batch(queries.map((sql) => db.prepare(sql)));
}

describe("schema migrations", () => {
  it("applied in order, the migrations build exactly the schema of schema.sql", async () => {
    await dropAll(env.DB);
    for (const m of env.TEST_MIGRATIONS) await apply(env.DB, m.queries);
    const migrated = await schemaOf(env.DB);

    await dropAll(env.DB);
    // Split as scripts/memory.mjs and bench/run.mjs split it: at every line that ends with ";".
    const statements = env.SCHEMA_SQL.split(/;\s*$/m)
      .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
      .filter(Boolean);
    await apply(env.DB, statements);
    const full = await schemaOf(env.DB);

    expect(migrated.map((o) => `${o.type} ${o.name}`)).toEqual(full.map((o) => `${o.type} ${o.name}`));
    expect(migrated).toEqual(full);
    // Back to a migrated database for the next test.
    await dropAll(env.DB);
    for (const m of env.TEST_MIGRATIONS) await apply(env.DB, m.queries);
  });
});
