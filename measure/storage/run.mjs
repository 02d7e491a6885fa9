#!/usr/bin/env node
// `npm run storage`: what the records ledger costs on disk and in D1 rows written, before (the
// layout of migrations/0001: one WITHOUT ROWID table `records`) and after (migrations/0002:
// record_state + record_bodies). See docs/storage.md.
//
// 1. Bytes on disk: for each layout, a fresh SQLite file (better-sqlite3, 4 KiB pages as D1),
//    100,000 records of about 1.2 KB of JSON committed 5000 at a time, the way the service commits
//    them: "after" runs the project's own commitPlan (bundled with esbuild) over
//    a thin D1 shim; "before" runs the statements commitPlan ran before 0002 (copied below from
//    commit 84026ca). Then file size / records, and each table's and index's share (dbstat).
// 2. Rows written: the same commits through Miniflare's local D1 (workerd's SQLite, whose result
//    `meta.rows_written` counts what D1 bills: each table row and each index entry written), for
//    5000 new records, the same 5000 re-synced unchanged (a touch: version, synced_at, sync_id)
//    and 5000 of which 10% changed.
//
// 3. The keyword index (migration 0007): "keywords" is "after" with it, each record's chunk texts
//    (searchableChunks, as a sync derives them) written by the same commitPlan, and the index
//    on record_state (body_id) that maps a keyword hit to its record.
//
// STORAGE_RECORDS=N changes the record count of part 1 (default 100000).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Miniflare } from "miniflare";
import { unstable_splitSqlQuery as splitSql } from "wrangler";
import { d1Shim, importLedger, importSource } from "../d1-shim.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const RECORDS = Number(process.env.STORAGE_RECORDS ?? 100_000);
const BATCH = 5000;
const STORE = "vs_0123456789abcdef01234567"; // the shape of the service's ids
const NAMESPACE = "clickup_tasks";

// --- the project's SQL ---------------------------------------------------------------------------
const migrations = readdirSync(join(root, "migrations"))
  .filter((name) => name.endsWith(".sql"))
  .sort()
  .map((name) => ({ name, queries: splitSql(readFileSync(join(root, "migrations", name), "utf8")) }));
const BEFORE_SCHEMA = migrations.filter((m) => m.name.startsWith("0001_")).flatMap((m) => m.queries);
const AFTER_SCHEMA = migrations.filter((m) => m.name < "0007_").flatMap((m) => m.queries);
const KEYWORDS_SCHEMA = migrations.flatMap((m) => m.queries);

const tmp = mkdtempSync(join(tmpdir(), "storage-"));
const { commitPlan } = await importLedger();
const { searchableChunks } = await importSource("src/vectors/vector-sync.ts");
/** The store's text settings: every scalar leaf of data is text (text_fields null). */
const STORE_SETTINGS = { id: STORE, text_fields: null, metadata_fields: null };

// commitPlan's statements as they stood before migration 0002 (the ledger module at 84026ca).
const OLD_UPSERT_RECORDS = `
  INSERT INTO records (vector_store_id, namespace, id, deleted, data, file, created_at, updated_at,
                       source_system, content_hash, version, text, metadata, vector, chunk_count, synced_at, sync_id)
  SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5,
         j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, j.value ->> 11,
         j.value ->> 12, j.value ->> 13, ?3, ?4
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    deleted = excluded.deleted, data = excluded.data, file = excluded.file,
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    source_system = excluded.source_system, content_hash = excluded.content_hash,
    text = excluded.text, metadata = excluded.metadata, vector = excluded.vector,
    chunk_count = excluded.chunk_count,
    version = excluded.version, synced_at = max(records.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id
  WHERE excluded.version >= records.version`;
const OLD_TOUCH_RECORDS = `
  INSERT INTO records (vector_store_id, namespace, id, deleted, version, updated_at, synced_at, sync_id)
  SELECT ?1, j.value ->> 0, j.value ->> 1, 1, j.value ->> 2, j.value ->> 3, ?3, ?4
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    synced_at = max(records.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id,
    updated_at = CASE WHEN excluded.version > records.version
                      THEN coalesce(excluded.updated_at, records.updated_at) ELSE records.updated_at END,
    version = max(records.version, excluded.version)
  WHERE records.deleted = 0`;

// --- records -----------------------------------------------------------------------------------
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
};
const WORDS =
  "the a sync ledger record vector index embed chunk store namespace refresh tombstone version client pipeline connector batch retry review deploy feature bug customer report quarterly plan design api schema migration".split(
    " ",
  );
const words = (n) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
/** A task-like record of about 1.2 KB of JSON. */
function makeData(i, revision = 0) {
  return {
    name: `Task ${i}: ${words(5)}`,
    description: words(125),
    status: ["open", "in_progress", "review", "done"][i % 4],
    priority: (i % 5) + 1,
    revision,
    assignees: [`user_${i % 97}`, `user_${(i * 7) % 89}`],
    tags: [words(1), words(1), words(1)],
    due_date: `2026-0${(i % 9) + 1}-1${i % 10}T12:00:00Z`,
    custom_fields: { estimate_hours: i % 40, sprint: `S${i % 12}`, component: words(2) },
    url: `https://app.example.com/t/${(i * 2654435761) % 1e9}`,
  };
}
const hashOf = (text) => Buffer.from(text.slice(0, 32).padEnd(32, "=")).toString("base64"); // 44 chars, as SHA-256 base64
const timestamp = (hour) => `2026-01-15T${String(hour).padStart(2, "0")}:00:00.000000000Z`;
let syncs = 0;
const syncId = () => `sync_${String(++syncs).padStart(24, "0")}`;

/** A commit of records [from, to) at `hour`: those with i % changedEvery === 0 get new content (revision). */
function records(from, to, revision = 0, changedEvery = 1) {
  const out = [];
  for (let i = from; i < to; i++) {
    const data = JSON.stringify(makeData(i, i % changedEvery === 0 ? revision : 0));
    out.push({ id: `task_${String(i).padStart(7, "0")}`, data, hash: hashOf(JSON.stringify([i, i % changedEvery === 0 ? revision : 0])) });
  }
  return out;
}

// --- the two ways of committing ----------------------------------------------------------------
/** The service's commit with the keyword index: the same plan, each write's chunk texts too. */
function commitKeywords(db, writes, touches, hour) {
  return commitAfter(db, writes, touches, hour, (write) => searchableChunks(STORE_SETTINGS, write.record));
}

/** The service's commit (after): commitPlan with a plan of writes and touches. */
async function commitAfter(db, writes, touches, hour, keywordTexts = null) {
  const version = timestamp(hour);
  const plan = {
    writes: writes.map((r) => ({
      namespace: NAMESPACE,
      id: r.id,
      key: `${NAMESPACE}\u0000${r.id}`,
      version,
      updatedAt: null,
      record: {
        data: r.data,
        file: null,
        createdAt: null,
        sourceSystem: null,
        text: null,
        metadata: null,
        vector: null,
        contentHash: r.hash,
      },
      previousChunkCount: 0,
      chunkCount: 1,
      // The one chunk's text hash, as the ledger keeps it (16 characters; LEDGER_HASH_CHARS).
      chunkHashes: r.hash.slice(0, 16),
    })),
    touches: touches.map((r) => ({ namespace: NAMESPACE, id: r.id, version, updatedAt: null })),
    sweeps: [],
    refreshedNamespaces: [],
  };
  const sync = {
    id: syncId(),
    organizationId: "org_x",
    vectorStoreId: STORE,
    mode: "incremental",
    syncTimestamp: version,
    status: "success",
    result: {},
    mutationIds: [],
  };
  await commitPlan(db, plan, sync, version, null, keywordTexts);
}

/** The commit before 0002: the same pieces through the old statements (writes, touches, the sync row). */
async function commitBefore(db, writes, touches, hour) {
  const version = timestamp(hour);
  const id = syncId();
  const rows = writes.map((r) => [NAMESPACE, r.id, 0, r.data, null, null, null, null, r.hash, version, null, null, null, 1]);
  const statements = [];
  for (const piece of pieces(rows)) statements.push(db.prepare(OLD_UPSERT_RECORDS).bind(STORE, piece, version, id));
  for (const piece of pieces(touches.map((r) => [NAMESPACE, r.id, version, null])))
    statements.push(db.prepare(OLD_TOUCH_RECORDS).bind(STORE, piece, version, id));
  statements.push(
    db
      .prepare(`INSERT INTO syncs (id, organization_id, vector_store_id, sync_mode, sync_timestamp, status, result, mutation_ids, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`)
      .bind(id, "org_x", STORE, "incremental", version, "success", "{}", "[]", new Date().toISOString()),
  );
  await db.batch(statements);
}

function pieces(rows) {
  const out = [];
  let current = [];
  let size = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    const bytes = Buffer.byteLength(text) + 1;
    if (current.length > 0 && size + bytes > 1_900_000) {
      out.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += bytes;
  }
  if (current.length > 0) out.push(`[${current.join(",")}]`);
  return out;
}

// --- part 1: bytes on disk (better-sqlite3 behind a D1-shaped shim) -----------------------------
async function measureDisk(label, schema, commit) {
  const file = join(tmp, `${label}.sqlite`);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  for (const sql of schema) sqlite.exec(sql);
  const db = d1Shim(sqlite);
  const started = performance.now();
  for (let from = 0; from < RECORDS; from += BATCH) await commit(db, records(from, Math.min(RECORDS, from + BATCH)), [], 10);
  const insertMs = performance.now() - started;
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  const pageSize = sqlite.pragma("page_size", { simple: true });
  const pages = sqlite.pragma("page_count", { simple: true });
  const parts = sqlite
    .prepare(`SELECT name, sum(pgsize) AS bytes, sum(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC`)
    .all()
    .filter((p) => !p.name.startsWith("sqlite_") && p.bytes > pageSize * 8);
  sqlite.close();
  const size = statSync(file).size;
  return { label, perRecord: size / RECORDS, size, pages: pages * pageSize, parts, insertMs };
}

// --- part 2: rows written, through Miniflare's D1 ------------------------------------------------
async function measureRows(mf, name, schema, commit) {
  const db = await mf.getD1Database(name);
  for (const sql of schema) await db.prepare(sql).run();
  // Count what each batch writes: D1 reports rows_written and the database size per statement.
  let rows = 0;
  let size = 0;
  const counting = {
    prepare: (sql) => db.prepare(sql),
    batch: async (statements) => {
      const results = await db.batch(statements);
      rows = results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0);
      size = results.at(-1)?.meta.size_after ?? 0;
      return results;
    },
  };
  const step = async (writes, touches, hour) => {
    const started = performance.now();
    await commit(counting, writes, touches, hour);
    return { rows, ms: performance.now() - started, size };
  };
  const all = records(0, BATCH);
  const first = await step(all, [], 10);
  const unchanged = await step([], all, 11);
  const changed = records(0, BATCH, 1, 10).filter((_, i) => i % 10 === 0);
  const changed10 = await step(
    changed,
    all.filter((_, i) => i % 10 !== 0),
    12,
  );
  return { name, first, unchanged, changed10 };
}

// --- run ---------------------------------------------------------------------------------------
const fmt = (n) => Math.round(n).toLocaleString("en-US");
try {
  console.log(
    `bytes on disk: ${fmt(RECORDS)} records of about ${fmt(records(0, 100).reduce((s, r) => s + r.data.length, 0) / 100)} bytes of JSON, committed ${BATCH} at a time`,
  );
  const disk = [
    await measureDisk("before", BEFORE_SCHEMA, commitBefore),
    await measureDisk("after", AFTER_SCHEMA, commitAfter),
    await measureDisk("keywords", KEYWORDS_SCHEMA, commitKeywords),
  ];
  for (const d of disk) {
    console.log(
      `  ${d.label.padEnd(8)} ${fmt(d.perRecord).padStart(6)} bytes per record  (${(d.size / 1e6).toFixed(1)} MB file, inserts ${fmt(d.insertMs)} ms)`,
    );
    for (const p of d.parts) console.log(`          ${p.name.padEnd(20)} ${fmt(p.bytes / RECORDS).padStart(6)} bytes per record`);
  }

  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null); } }",
    d1Databases: { BEFORE: "storage-before", AFTER: "storage-after", KEYWORDS: "storage-keywords" },
  });
  await mf.ready;
  const rows = [
    await measureRows(mf, "BEFORE", BEFORE_SCHEMA, commitBefore),
    await measureRows(mf, "AFTER", AFTER_SCHEMA, commitAfter),
    await measureRows(mf, "KEYWORDS", KEYWORDS_SCHEMA, commitKeywords),
  ];
  await mf.dispose();
  console.log(`\nD1 rows written per commit of ${BATCH} operations (Miniflare's D1; the sync's own row included), and its time:`);
  const cell = (s) => `${fmt(s.rows)} rows ${fmt(s.ms).padStart(5)} ms`.padStart(22);
  console.log(`  ${"".padEnd(8)} ${"new records".padStart(22)} ${"unchanged (touches)".padStart(22)} ${"10% changed".padStart(22)}`);
  for (const r of rows) console.log(`  ${r.name.toLowerCase().padEnd(8)} ${cell(r.first)} ${cell(r.unchanged)} ${cell(r.changed10)}`);
  console.log(
    JSON.stringify({
      records: RECORDS,
      bytes_per_record: Object.fromEntries(disk.map((d) => [d.label, Math.round(d.perRecord)])),
      rows_written: Object.fromEntries(
        rows.map((r) => [r.name.toLowerCase(), { first: r.first.rows, unchanged: r.unchanged.rows, changed_10pct: r.changed10.rows }]),
      ),
    }),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
