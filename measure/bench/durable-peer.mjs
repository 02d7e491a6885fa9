// The peer a self-hosting team would deploy: LangChain.js `index()` with a durable record manager
// and a durable vector store, both in SQLite files (better-sqlite3, the bench's SQLite), so that a
// restart loses nothing. LangChain.js's SQLRecordManager lives in @langchain/community (over
// TypeORM; see langchainStore for why that package is not installed here): SQLiteRecordManager
// below keeps its table and indexes (upsertion_record: uuid, key, namespace, group_id, updated_at)
// and its queries, one transaction per call as TypeORM runs them. SQLiteVectorStore keeps each
// vector as a Float32 BLOB beside its text and metadata, upserted by id, searched by brute force.
// Both files live in one temporary folder per store, written with SQLite's defaults for a server
// (WAL, synchronous NORMAL).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { RecordManager } from "@langchain/core/indexing";
import { VectorStore } from "@langchain/core/vectorstores";
import Database from "better-sqlite3";
import { indexSync, StandInEmbeddings } from "./langchain-peer.mjs";

function open(path) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  return db;
}

/** @langchain/community's SQLRecordManager, on better-sqlite3 instead of TypeORM. */
export class SQLiteRecordManager extends RecordManager {
  lc_namespace = ["langchain", "recordmanagers", "sqlite"];

  constructor(db, namespace) {
    super();
    this.db = db;
    this.namespace = namespace;
  }

  async createSchema() {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS upsertion_record (
        uuid TEXT PRIMARY KEY, key TEXT NOT NULL, namespace TEXT NOT NULL, group_id TEXT,
        updated_at REAL NOT NULL, UNIQUE (key, namespace));
      CREATE INDEX IF NOT EXISTS updated_at_index ON upsertion_record (updated_at);
      CREATE INDEX IF NOT EXISTS key_index ON upsertion_record (key);
      CREATE INDEX IF NOT EXISTS namespace_index ON upsertion_record (namespace);
      CREATE INDEX IF NOT EXISTS group_id_index ON upsertion_record (group_id);`);
  }

  // A float clock, as the in-memory manager's (see InMemoryRecordManager.getTime): SQLRecordManager
  // reads the database's julianday-based seconds, which are as fine.
  async getTime() {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  async update(keys, updateOptions) {
    if (keys.length === 0) return;
    const updatedAt = await this.getTime();
    const { timeAtLeast, groupIds: _groupIds } = updateOptions ?? {};
    if (timeAtLeast && updatedAt < timeAtLeast) throw new Error(`Time sync issue with database ${updatedAt} < ${timeAtLeast}`);
    const groupIds = _groupIds ?? keys.map(() => null);
    const upsert = this.db.prepare(`
      INSERT INTO upsertion_record (uuid, key, namespace, group_id, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key, namespace) DO UPDATE SET updated_at = excluded.updated_at, group_id = excluded.group_id`);
    this.db.transaction(() => {
      keys.forEach((key, i) => {
        upsert.run(crypto.randomUUID(), key, this.namespace, groupIds[i], updatedAt);
      });
    })();
  }

  async exists(keys) {
    if (keys.length === 0) return [];
    const found = new Set(
      this.db
        .prepare(`SELECT key FROM upsertion_record WHERE namespace = ? AND key IN (SELECT value FROM json_each(?))`)
        .all(this.namespace, JSON.stringify(keys))
        .map((r) => r.key),
    );
    return keys.map((key) => found.has(key));
  }

  async listKeys(options) {
    const { before, after, limit, groupIds } = options ?? {};
    let sql = "SELECT key FROM upsertion_record WHERE namespace = ?";
    const params = [this.namespace];
    const where = (clause, value) => {
      sql += clause;
      params.push(value);
    };
    if (before) where(" AND updated_at < ?", before);
    if (after) where(" AND updated_at > ?", after);
    if (groupIds) where(" AND group_id IN (SELECT value FROM json_each(?))", JSON.stringify(groupIds));
    if (limit) where(" LIMIT ?", limit);
    return this.db
      .prepare(sql)
      .all(...params)
      .map((r) => r.key);
  }

  async deleteKeys(keys) {
    if (keys.length === 0) return;
    this.db
      .prepare("DELETE FROM upsertion_record WHERE namespace = ? AND key IN (SELECT value FROM json_each(?))")
      .run(this.namespace, JSON.stringify(keys));
  }
}

/** Vectors by id in SQLite: add (with the ids index() passes) as one transaction, delete by id, cosine search. */
export class SQLiteVectorStore extends VectorStore {
  constructor(embeddings, db) {
    super(embeddings, {});
    this.db = db;
    db.exec(
      "CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, content TEXT NOT NULL, metadata TEXT NOT NULL)",
    );
  }

  _vectorstoreType() {
    return "sqlite";
  }

  get size() {
    return this.db.prepare("SELECT count(*) AS n FROM vectors").get().n;
  }

  async addDocuments(documents, options) {
    return this.addVectors(await this.embeddings.embedDocuments(documents.map((d) => d.pageContent)), documents, options);
  }

  async addVectors(vectors, documents, options) {
    const ids = options?.ids ?? documents.map(() => crypto.randomUUID());
    const put = this.db.prepare("INSERT OR REPLACE INTO vectors (id, vector, content, metadata) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      vectors.forEach((vector, i) => {
        const blob = Buffer.from(Float32Array.from(vector).buffer);
        put.run(ids[i], blob, documents[i].pageContent, JSON.stringify(documents[i].metadata));
      });
    })();
    return ids;
  }

  async delete(params) {
    const ids = params?.ids ?? [];
    if (ids.length > 0) this.db.prepare("DELETE FROM vectors WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(ids));
  }

  async similaritySearchVectorWithScore(query, k) {
    const scored = [];
    for (const row of this.db.prepare("SELECT id, vector, content, metadata FROM vectors").iterate()) {
      const vector = new Float32Array(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength / 4);
      let dot = 0;
      for (let i = 0; i < query.length; i++) dot += query[i] * vector[i];
      scored.push([new Document({ id: row.id, pageContent: row.content, metadata: JSON.parse(row.metadata) }), dot]);
    }
    return scored.sort((a, b) => b[1] - a[1]).slice(0, k);
  }
}

/**
 * The durable peer's "store", as langchainStore's: `sync(ops)` turns upserted records into their
 * chunk texts and runs index() with cleanup "full" against the SQLite record manager and vector
 * store. `close()` removes its folder.
 */
export async function durableLangchainStore(floorLib) {
  const dir = mkdtempSync(join(tmpdir(), "bench-durable-peer-"));
  const records = open(join(dir, "records.sqlite"));
  const vectors = open(join(dir, "vectors.sqlite"));
  const recordManager = new SQLiteRecordManager(records, "bench");
  await recordManager.createSchema();
  const embeddings = new StandInEmbeddings(floorLib.hashEmbedding);
  const vectorStore = new SQLiteVectorStore(embeddings, vectors);
  return {
    sync: indexSync(floorLib, embeddings, recordManager, vectorStore, () => vectorStore.size),
    close() {
      records.close();
      vectors.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
