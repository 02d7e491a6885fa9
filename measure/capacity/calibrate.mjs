// Calibration of the capacity model (npm run capacity -- --calibrate).
// Calibration: the D1 busy times per operation are SQLite's own time for the project's SQL
// (the service's loadLedger and commitPlan over better-sqlite3, a 4 KiB-page file like D1),
// measured by `npm run capacity -- --calibrate` and recorded in CALIBRATION below, so that the
// default run is deterministic. The engine CPU per operation comes from the bench's phase profile
// (docs/measurements.md#performance). Everything else (D1's fixed cost per round trip, network and Workers AI
// latencies, the workload) is assumed: see ASSUMED and docs/measurements.md#capacity.
import { fileURLToPath } from "node:url";
import { d1Shim, importLedger } from "../d1-shim.mjs";
import { rng } from "../records.mjs";

/**
 * Measures the D1 busy times of CALIBRATION with the project's own SQL: loadLedger and
 * commitPlan (bundled with esbuild) over better-sqlite3 behind a D1-shaped shim,
 * in a file with schema.sql, a store of `prefill` records. Times only the transaction.
 */
export async function calibrate({ prefill = 50_000, syncRows = 20_000, log = console.log } = {}) {
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const Database = (await import("better-sqlite3")).default;
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const { loadLedger, commitPlan } = await importLedger();

  const schema = readFileSync(join(root, "schema.sql"), "utf8");
  const tmp = mkdtempSync(join(tmpdir(), "capacity-"));
  try {
    let lastBatchMs = 0;
    const open = (name) => {
      const sqlite = new Database(join(tmp, name));
      sqlite.pragma("journal_mode = WAL");
      sqlite.exec(schema);
      const db = d1Shim(sqlite, {
        onBatch: (ms) => {
          lastBatchMs = ms;
        },
      });
      return { sqlite, db };
    };

    const STORE = "vs_0123456789abcdef01234567";
    const NS = "clickup_tasks";
    const words = "the sync ledger record vector index embed chunk store namespace refresh version client pipeline".split(" ");
    const random = rng(7);
    const text = (n) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(" ");
    const data = (i, revision) =>
      JSON.stringify({ name: `Task ${i}`, description: text(125), status: "open", priority: i % 5, revision, tags: [text(1), text(1)] });
    const id = (i) => `task_${String(i).padStart(7, "0")}`;
    let hour = 0;
    let syncs = 0;
    const ts = () => {
      hour++;
      return `2026-01-${String(1 + Math.floor(hour / 24)).padStart(2, "0")}T${String(hour % 24).padStart(2, "0")}:00:00.000000000Z`;
    };
    const smallResult = {
      status: "success",
      sync_id: "sync_0123456789abcdef01234567",
      processed: 50,
      results: { upserted: 1, deleted: 0, unchanged: 49, failed: 0 },
      by_namespace: { clickup_tasks: { upserted: 1, deleted: 0, unchanged: 49, failed: 0 } },
      processing_time_ms: 412,
      errors: [],
    };
    const sync = (version) => ({
      id: `sync_${String(++syncs).padStart(24, "0")}`,
      organizationId: "org_abc123",
      vectorStoreId: STORE,
      mode: "incremental",
      syncTimestamp: version,
      status: "success",
      result: smallResult,
      mutationIds: ["m_0123456789abcdef"],
    });
    const commit = async (db, writes, touches) => {
      const version = ts();
      const plan = {
        writes: writes.map((i) => ({
          namespace: NS,
          id: id(i),
          key: `${NS}\u0000${id(i)}`,
          version,
          updatedAt: null,
          record: {
            data: data(i, hour),
            file: null,
            createdAt: null,
            sourceSystem: null,
            text: null,
            metadata: null,
            vector: null,
            contentHash: Buffer.from(`${i}:${hour}`).toString("base64").padEnd(44, "="),
          },
          previousChunkCount: 1,
          chunkCount: 1,
        })),
        touches: touches.map((i) => ({ namespace: NS, id: id(i), version, updatedAt: null })),
        sweeps: [],
        refreshedNamespaces: [],
      };
      await commitPlan(db, plan, sync(version), version);
      return lastBatchMs;
    };
    const range = (from, n) => Array.from({ length: n }, (_, k) => from + k);
    const pick = (n) => Array.from({ length: n }, () => Math.floor(random() * prefill));
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

    const { sqlite, db } = open("ledger.sqlite");
    const started = performance.now();
    for (let from = 0; from < prefill; from += 5000) await commit(db, range(from, Math.min(5000, prefill - from)), []);
    log(`calibration: a store of ${prefill.toLocaleString("en-US")} records in ${Math.round(performance.now() - started)} ms`);
    let fresh = prefill;
    const sizes = [50, 500, 5000];
    const measured = { read: {}, write: {}, touch: {} };
    for (const n of sizes) {
      const reps = n === 5000 ? 5 : 15;
      const reads = [];
      const writes = [];
      const touches = [];
      for (let r = 0; r < reps; r++) {
        const keys = [...new Set(pick(n))];
        await loadLedger(
          db,
          STORE,
          keys.map((i) => ({ namespace: NS, id: id(i) })),
          [NS],
          null,
        );
        reads.push(lastBatchMs);
        // Half the written records are new, half existing ones changed (both: state + body + index).
        const half = Math.floor(n / 2);
        writes.push(await commit(db, [...range(fresh, n - half), ...pick(half)], []));
        fresh += n - half;
        touches.push(await commit(db, [], pick(n)));
      }
      measured.read[n] = median(reads);
      measured.write[n] = median(writes);
      measured.touch[n] = median(touches);
    }
    sqlite.close();
    const lineThrough = (m) => {
      const perOpMs = (m[5000] - m[50]) / (5000 - 50);
      return { fixedMs: Math.max(0, m[50] - 50 * perOpMs), perOpMs, at: m };
    };

    // A stored sync result's bytes: syncRows small syncs' rows (commitPlan of an empty plan).
    const rows = syncRows;
    const results = open("syncs.sqlite");
    for (let i = 0; i < rows; i++) await commit(results.db, [], []);
    const syncBytes = results.sqlite
      .prepare(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('syncs', 'syncs_by_org', 'syncs_by_store') OR name LIKE 'sqlite_autoindex_syncs%'",
      )
      .get().bytes;
    // One indexed point read (the revocation check).
    const point = results.sqlite.prepare("SELECT 1 AS revoked FROM revoked_api_keys WHERE key_id = ?");
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) point.get(`key_${i}`);
    const pointReadMs = (performance.now() - t0) / 20_000;
    results.sqlite.close();

    const calibration = {
      source: `npm run capacity -- --calibrate (better-sqlite3, project SQL), ${new Date().toISOString().slice(0, 10)}`,
      read: lineThrough(measured.read),
      write: lineThrough(measured.write),
      touch: lineThrough(measured.touch),
      syncRowBytes: Math.round(syncBytes / rows),
      pointReadMs,
    };
    for (const kind of ["read", "write", "touch"]) {
      const f = calibration[kind];
      log(
        `  ${kind.padEnd(6)} ms for 50 / 500 / 5000 ops: ${sizes.map((n) => f.at[n].toFixed(2)).join(" / ")}` +
          `  -> ${f.fixedMs.toFixed(3)} ms + ${f.perOpMs.toFixed(4)} ms per op`,
      );
    }
    log(`  stored sync result ${calibration.syncRowBytes} bytes; indexed point read ${(pointReadMs * 1000).toFixed(1)} us`);
    return calibration;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
