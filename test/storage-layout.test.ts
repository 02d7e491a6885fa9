import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { commitPlan, getRecord, loadLedger, type SyncRow } from "../src/db/ledger";
import type { RecordPayload } from "../src/model/operations";
import type { RecordTouch, RecordWrite, SyncPlan } from "../src/model/plan";

// The ledger's two tables (schema.sql, docs/storage.md): record_state, written by every commit
// that touches a record, and record_bodies, written only when a record's content changes. These
// drive commitPlan directly with hand-made plans.

const syncedAt = (hour: number) => `2026-01-15T${String(hour).padStart(2, "0")}:00:00.000000000Z`;
let stores = 0;
const newStore = () => `vs_layout_${++stores}_${Math.random().toString(36).slice(2, 8)}`;

function payload(data: unknown, hash = JSON.stringify(data)): RecordPayload {
  return {
    data: JSON.stringify(data),
    file: null,
    createdAt: null,
    sourceSystem: null,
    text: null,
    metadata: null,
    vector: null,
    contentHash: hash,
  };
}

function write(id: string, version: string, record: RecordPayload | null, namespace = "ns"): RecordWrite {
  return {
    namespace,
    id,
    key: `${namespace}\u0000${id}`,
    version,
    updatedAt: null,
    record,
    previousChunkCount: 0,
    chunkCount: record ? 1 : 0,
  };
}

function plan(p: { writes?: RecordWrite[]; touches?: RecordTouch[]; sweeps?: { namespace: string; id: string; chunkCount: number }[] }) {
  return { writes: p.writes ?? [], touches: p.touches ?? [], sweeps: p.sweeps ?? [], refreshedNamespaces: [] } as unknown as SyncPlan;
}

/** The D1 binding, keeping each batch's results (their meta counts the rows written). */
function capturing(db: D1Database) {
  const batches: D1Result[][] = [];
  const wrapped = new Proxy(db, {
    get(target, property) {
      if (property === "batch")
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          batches.push(results);
          return results;
        };
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, batches };
}

let syncs = 0;
async function commit(store: string, p: SyncPlan, at: string, db: D1Database = env.DB) {
  const sync: SyncRow = {
    id: `sync_layout_${++syncs}`,
    organizationId: "org_layout",
    vectorStoreId: store,
    mode: "incremental",
    syncTimestamp: at,
    status: "success",
    result: {},
    mutationIds: [],
  };
  await commitPlan(db, p, sync, at);
}

/** Every state row's body exists and is its own; no body belongs to no record. */
async function expectBodiesConsistent() {
  const row = await env.DB.prepare(`
    SELECT (SELECT count(*) FROM record_state WHERE body_id IS NOT NULL) AS linked,
           (SELECT count(DISTINCT body_id) FROM record_state) AS distinct_ids,
           (SELECT count(*) FROM record_bodies) AS bodies,
           (SELECT count(*) FROM record_state s WHERE s.body_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM record_bodies b WHERE b.body_id = s.body_id)) AS dangling,
           (SELECT count(*) FROM record_state WHERE deleted = 0 AND body_id IS NULL) AS live_without_body`).first<Record<string, number>>();
  expect(row).toMatchObject({ dangling: 0, live_without_body: 0 });
  expect(row!.distinct_ids).toBe(row!.linked);
  expect(row!.bodies).toBe(row!.linked);
}

describe("ledger storage layout", () => {
  it("writes spread over several JSON pieces get distinct bodies, each its own record's content", async () => {
    const store = newStore();
    // 2000 writes with 1 KB ids and 1 KB of data: 2 state pieces (2.2 MB) and several body pieces.
    const long = "x".repeat(1000);
    const writes = Array.from({ length: 2000 }, (_, i) => write(`${long}${i}`, syncedAt(10), payload({ i, pad: "é".repeat(500) })));
    const p = plan({ writes });
    const { db, batches } = capturing(env.DB);
    await commit(store, p, syncedAt(10), db);
    expect(batches[0]!.length).toBeGreaterThanOrEqual(2 + 2 + 1); // and the sync's row
    expect(p.writes).toEqual([]); // consumed: the commit lets go of each write once serialised
    const { results } = await env.DB.prepare("SELECT id, data FROM records WHERE vector_store_id = ?1 AND deleted = 0 ORDER BY body_id")
      .bind(store)
      .all<{ id: string; data: string }>();
    expect(results).toHaveLength(2000);
    for (const r of results) expect(`${long}${(JSON.parse(r.data) as { i: number }).i}`).toBe(r.id);
    await expectBodiesConsistent();
  });

  it("data, file, metadata and vector are stored as the very JSON text the operation made", async () => {
    const store = newStore();
    const data = {
      s: 'q"uo\\te\n\t\u0000 é ✓ 😀 \ud800 \u2028 </',
      n: [0, -1.5, 1e21, 5e-324, 1.7976931348623157e308, 2 ** 53],
      o: { "": null, k: [true, false, {}] },
    };
    const record: RecordPayload = {
      ...payload(data),
      file: JSON.stringify({ file_relative_path: "a/b é.txt" }),
      metadata: JSON.stringify({ priority: 1.25, tag: 'x"y' }),
      vector: [0.1, -2.5e-8, 3],
      text: 'plain text, not JSON: { [ "',
      sourceSystem: "jira",
    };
    const expected = { ...record };
    await commit(store, plan({ writes: [write("a", syncedAt(10), record)] }), syncedAt(10));
    const row = await env.DB.prepare("SELECT data, file, metadata, vector, text, source_system FROM records WHERE vector_store_id = ?1")
      .bind(store)
      .first();
    expect(row).toEqual({
      data: expected.data,
      file: expected.file,
      metadata: expected.metadata,
      vector: JSON.stringify(expected.vector),
      text: expected.text,
      source_system: "jira",
    });
    expect(JSON.parse(row!.data as string)).toEqual(data);
    // Absent values are SQL NULL, not the text "null".
    await commit(store, plan({ writes: [write("b", syncedAt(10), payload({ v: 1 }))] }), syncedAt(10));
    expect(
      await env.DB.prepare("SELECT file, metadata, vector, text FROM records WHERE vector_store_id = ?1 AND id = 'b'").bind(store).first(),
    ).toEqual({
      file: null,
      metadata: null,
      vector: null,
      text: null,
    });
  });

  it("a touch writes the state row and its sweep index entry only; bodies change only with content", async () => {
    const store = newStore();
    const n = 500;
    const ids = Array.from({ length: n }, (_, i) => `r${i}`);
    await commit(store, plan({ writes: ids.map((id) => write(id, syncedAt(10), payload({ id }))) }), syncedAt(10));
    const bodiesBefore = (
      await env.DB.prepare("SELECT body_id, data FROM records WHERE vector_store_id = ?1 ORDER BY id").bind(store).all()
    ).results;

    const { db, batches } = capturing(env.DB);
    await commit(
      store,
      plan({ touches: ids.map((id) => ({ namespace: "ns", id, version: syncedAt(10), updatedAt: null })) }),
      syncedAt(11),
      db,
    );
    // The batch: the touch statement, then the sync's own row.
    expect(batches[0]![0]!.meta.rows_written).toBe(2 * n);
    expect(
      (await env.DB.prepare("SELECT body_id, data FROM records WHERE vector_store_id = ?1 ORDER BY id").bind(store).all()).results,
    ).toEqual(bodiesBefore);
    const entries = await loadLedger(env.DB, store, [{ namespace: "ns", id: "r7" }], [], null);
    expect(entries.entries[0]).toMatchObject({ syncedAt: syncedAt(11), version: syncedAt(10), deleted: false });
  });

  it("a tombstone empties its body and keeps it; a revival fills the same body; a stale write changes nothing", async () => {
    const store = newStore();
    await commit(
      store,
      plan({ writes: [write("a", syncedAt(10), payload({ v: 1 })), write("b", syncedAt(10), payload({ v: 1 }))] }),
      syncedAt(10),
    );
    const bodyOf = async (id: string) =>
      env.DB.prepare("SELECT deleted, body_id, data, version FROM records WHERE vector_store_id = ?1 AND id = ?2").bind(store, id).first();
    const a1 = await bodyOf("a");

    await commit(store, plan({ writes: [write("a", syncedAt(11), null)] }), syncedAt(11));
    expect(await bodyOf("a")).toEqual({ deleted: 1, body_id: a1!.body_id, data: null, version: syncedAt(11) });
    expect(await getRecord(env.DB, store, "ns", "a")).toBeNull();

    // Older than the tombstone: refused by the version guard, body included.
    await commit(store, plan({ writes: [write("a", syncedAt(10), payload({ v: "stale" }))] }), syncedAt(12));
    expect(await bodyOf("a")).toEqual({ deleted: 1, body_id: a1!.body_id, data: null, version: syncedAt(11) });

    await commit(store, plan({ writes: [write("a", syncedAt(13), payload({ v: 2 }))] }), syncedAt(13));
    expect(await bodyOf("a")).toEqual({ deleted: 0, body_id: a1!.body_id, data: '{"v":2}', version: syncedAt(13) });
    expect((await getRecord(env.DB, store, "ns", "a"))?.data).toEqual({ v: 2 });

    // A tombstone for a key never seen has no body; its revival gets a new one.
    await commit(store, plan({ writes: [write("c", syncedAt(13), null)] }), syncedAt(13));
    expect(await bodyOf("c")).toMatchObject({ deleted: 1, body_id: null });
    await commit(store, plan({ writes: [write("c", syncedAt(14), payload({ v: 3 }))] }), syncedAt(14));
    const c = await bodyOf("c");
    expect(c).toMatchObject({ deleted: 0, data: '{"v":3}' });
    expect(c!.body_id).not.toBe(a1!.body_id);

    // A sweep empties the swept records' bodies.
    await commit(store, plan({ sweeps: [{ namespace: "ns", id: "b", chunkCount: 1 }] }), syncedAt(15));
    expect(await bodyOf("b")).toMatchObject({ deleted: 1, data: null, version: syncedAt(15) });
    await expectBodiesConsistent();
  });
});
