import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, del, getRecord, ledgerRows, sync, upsert } from "./support/helpers";
import { ledgerOfStore } from "./support/placement";

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
    // A virtual table first: dropping it drops its shadow tables (chunk_keywords_data...) too.
    ...objects.filter((o) => o.type === "table" && o.sql?.startsWith("CREATE VIRTUAL")).map((o) => `DROP TABLE "${o.name}"`),
    ...objects.filter((o) => o.type === "table" && !o.sql?.startsWith("CREATE VIRTUAL")).map((o) => `DROP TABLE IF EXISTS "${o.name}"`),
    "DROP TABLE IF EXISTS d1_migrations",
  ];
  await db.batch(drops.map((sql) => db.prepare(sql)));
  expect(await schemaOf(db)).toEqual([]);
}

async function apply(db: D1Database, queries: string[]) {
  await db.batch(queries.map((sql) => db.prepare(sql)));
}

const migration = (prefix: string) => {
  const found = env.TEST_MIGRATIONS.find((m) => m.name.startsWith(prefix));
  if (!found) throw new Error(`no migration ${prefix}`);
  return found.queries;
};

describe("schema migrations", () => {
  it("applied in order, the migrations build exactly the schema of schema.sql", async () => {
    await dropAll(env.DB);
    for (const m of env.TEST_MIGRATIONS) await apply(env.DB, m.queries);
    const migrated = await schemaOf(env.DB);

    await dropAll(env.DB);
    // Split as the measurements split it (schemaStatements): at every line that ends with ";".
    const statements = env.SCHEMA_SQL.split(/;\s*$/m)
      .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
      .filter(Boolean);
    await apply(env.DB, statements);
    const full = await schemaOf(env.DB);

    expect(migrated.map((o) => `${o.type} ${o.name}`)).toEqual(full.map((o) => `${o.type} ${o.name}`));
    expect(migrated).toEqual(full);
    expect(full.map((o) => o.name)).toEqual(expect.arrayContaining(["record_state", "record_bodies", "record_state_sweep", "records"]));
    // Back to a migrated database for the next test.
    await dropAll(env.DB);
    for (const m of env.TEST_MIGRATIONS) await apply(env.DB, m.queries);
  });

  it("0002 converts a ledger of the old layout: same records, same hashes, and syncs go on from it", async () => {
    const t = await createTenant();
    const db = await ledgerOfStore(t.store);
    const v1 = "2026-01-15T10:00:00Z";
    expect(
      (
        await sync(t, [upsert("a", { n: 1, s: "é ✓" }), upsert("b", { n: 2 }), upsert("gone", { n: 3 }), del("never")], {
          sync_timestamp: v1,
        })
      ).status,
    ).toBe(200);
    expect((await sync(t, [del("gone")], { sync_timestamp: "2026-01-15T10:30:00Z" })).status).toBe(200);
    const columns = `vector_store_id, namespace, id, deleted, data, file, created_at, updated_at, source_system, text,
                     metadata, vector, content_hash, chunk_count, version, synced_at, sync_id`;
    const before = (await db.prepare(`SELECT ${columns} FROM records ORDER BY vector_store_id, namespace, id`).all()).results;
    expect(before).toHaveLength(4);

    // The database as it was before 0002: the old table `records`, holding the same rows.
    await apply(db, ["DROP VIEW records", "DROP TABLE record_state", "DROP TABLE record_bodies", ...migration("0001")]);
    await db
      .prepare(`INSERT INTO records (${columns}) SELECT ${columns.replace(/(\w+)/g, "j.value ->> '$1'")}
                          FROM json_each(?1) j`)
      .bind(JSON.stringify(before))
      .run();
    expect((await db.prepare("SELECT type FROM sqlite_master WHERE name = 'records'").first<{ type: string }>())?.type).toBe("table");

    await apply(db, migration("0002"));
    const after = (await db.prepare(`SELECT ${columns} FROM records ORDER BY vector_store_id, namespace, id`).all()).results;
    expect(after).toEqual(before);
    // Live records have their own body; tombstones have none.
    const bodies = await db
      .prepare(`SELECT s.id, s.deleted, s.body_id, b.data FROM record_state s
                                         LEFT JOIN record_bodies b ON b.body_id = s.body_id ORDER BY s.id`)
      .all();
    expect(bodies.results.map((r) => [r.id, r.deleted, r.body_id === null, r.data === null])).toEqual([
      ["a", 0, false, false],
      ["b", 0, false, false],
      ["gone", 1, true, true],
      ["never", 1, true, true],
    ]);
    // Later migrations of record_state (0006: chunk hashes, NULL for these rows: their next change embeds every chunk).
    await apply(db, migration("0006"));

    // A later sync: the same contents are unchanged (their hashes survived), a change is written,
    // a tombstone still holds off an older upsert, a deleted record comes back.
    const later = await sync(t, [upsert("a", { n: 1, s: "é ✓" }), upsert("b", { n: 20 }), upsert("gone", { n: 4 })], {
      sync_timestamp: "2026-01-15T11:00:00Z",
    });
    expect(later.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 1, failed: 0, stale: 0 });
    const stale = await sync(t, [upsert("never", { n: 5 }, "clickup_tasks", { updated_at: "2026-01-01T00:00:00Z" })], {
      sync_timestamp: "2026-01-15T12:00:00Z",
    });
    expect(stale.body.results.stale).toBe(1);
    expect((await getRecord(t, "clickup_tasks", "b")).body.data).toEqual({ n: 20 });
    expect((await getRecord(t, "clickup_tasks", "gone")).body.data).toEqual({ n: 4 });
    expect((await getRecord(t, "clickup_tasks", "a")).body.synced_at).toBe("2026-01-15T11:00:00.000Z");
    expect((await ledgerRows(t.store)).map((r) => [r.id, JSON.parse(r.data)])).toEqual([
      ["a", { n: 1, s: "é ✓" }],
      ["b", { n: 20 }],
      ["gone", { n: 4 }],
    ]);
  });
});
