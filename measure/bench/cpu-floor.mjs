// The CPU floors of a sync, in Node, on the same operations the bench sends: the least work any
// implementation must do per record, which the engine's CPU per 1000 records is set against.
//   new        parse the body, hash each record's content (SHA-256), chunk its text, insert its
//              ledger row (SQLite, one transaction);
//   unchanged  hash each operation's bytes (SHA-256) and read its ledger row by key;
//   changed    the unchanged floor for every operation, plus the new floor's parse, hash, chunk
//              and write for the changed ones, and the delete of the deleted ones.
// Embedding is not in any floor: the local embedder is a stand-in, reported apart.
import { createHash } from "node:crypto";
import Database from "better-sqlite3";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("base64");

function ledger() {
  const sqlite = new Database(":memory:");
  sqlite.exec(`CREATE TABLE records (vector_store_id TEXT, namespace TEXT, id TEXT, data TEXT, content_hash TEXT,
    op_hash TEXT, version TEXT, PRIMARY KEY (vector_store_id, namespace, id)) WITHOUT ROWID`);
  return {
    sqlite,
    upsert: sqlite.prepare(`INSERT INTO records VALUES ('vs', ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET data = excluded.data, content_hash = excluded.content_hash, op_hash = excluded.op_hash, version = excluded.version`),
    read: sqlite.prepare("SELECT op_hash, version FROM records WHERE vector_store_id = 'vs' AND namespace = ? AND id = ?"),
    remove: sqlite.prepare("DELETE FROM records WHERE vector_store_id = 'vs' AND namespace = ? AND id = ?"),
  };
}

/** Parse, hash, chunk and write the upserts among `ops` (already parsed). */
function writeNew(db, ops, chunk, version) {
  db.sqlite.transaction(() => {
    for (const op of ops) {
      const data = JSON.stringify(op.data);
      chunk(data);
      db.upsert.run(op.namespace, op.id, data, sha256(data), null, version);
    }
  })();
}

/** Hash each operation's bytes and read its ledger row. */
function hashAndRead(db, opBytes, ops) {
  db.sqlite.transaction(() => {
    ops.forEach((op, i) => {
      sha256(opBytes[i]);
      db.read.get(op.namespace, op.id);
    });
  })();
}

/**
 * Milliseconds of each floor, one sample each: `base` the first sync's operations, `changed` a
 * later sync's (10% changed, 1% deleted, as changedOps makes them), `chunk(text)` the service's chunking.
 */
export function cpuFloors(base, changed, chunk) {
  const db = ledger();
  const body = JSON.stringify({ operations: base });
  let started = performance.now();
  writeNew(db, JSON.parse(body).operations, chunk, "v1");
  const first = performance.now() - started;

  const baseBytes = base.map((op) => Buffer.from(JSON.stringify(op)));
  started = performance.now();
  hashAndRead(db, baseBytes, base);
  const unchanged = performance.now() - started;

  const changedBytes = changed.map((op) => Buffer.from(JSON.stringify(op)));
  const edited = changed.flatMap((op, i) => (op.action === "upsert" && op.data !== base[i].data ? [JSON.stringify(op)] : []));
  started = performance.now();
  hashAndRead(db, changedBytes, changed);
  writeNew(
    db,
    edited.map((text) => JSON.parse(text)),
    chunk,
    "v2",
  );
  db.sqlite.transaction(() => {
    for (const op of changed) if (op.action === "delete") db.remove.run(op.namespace, op.id);
  })();
  const changedMs = performance.now() - started;
  db.sqlite.close();
  return { first_sync: first, unchanged, changed_10pct: changedMs };
}
