// The in-process target of search-eval (`npm run search-eval -- --in-process`): the service's own
// search (searchStore, with its SQL, keyword query, fusion and reranking) and commit (commitPlan),
// bundled with esbuild and run in Node over better-sqlite3 (SQLite with FTS5, the migrations
// applied) behind the D1-shaped shim, with in-memory bindings that answer as the local stand-ins do
// (the same hash embedding, cosine, filter semantics and word-overlap reranker). For a machine too
// loaded to run a dev server; its times are of the search's own work, without HTTP or workerd.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { unstable_splitSqlQuery as splitSql } from "wrangler";
import { d1Shim } from "../d1-shim.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

async function importProject() {
  const entry = `
    export { searchStore } from "./src/store/search";
    export { commitPlan } from "./src/db/ledger";
    export { searchableChunks } from "./src/vectors/vector-sync";
    export { hashEmbedding } from "./src/local/hash-embedding";
    export { cosine } from "./src/local/vector-math";
    export { matchesFilter } from "./src/vectors/metadata-filter";
    export { tokenOverlapScore } from "./src/local/token-overlap";
    export { vectorNamespace } from "./src/vectors/ids";
    export { RERANK_MODEL } from "./src/vectors/reranker";`;
  const bundled = await build({
    stdin: { contents: entry, resolveDir: root, loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    logLevel: "error",
  });
  return import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);
}

export async function inProcessTarget() {
  const p = await importProject();
  const sqlite = new Database(":memory:");
  for (const name of readdirSync(join(root, "migrations")).sort()) {
    for (const sql of splitSql(readFileSync(join(root, "migrations", name), "utf8"))) sqlite.exec(sql);
  }
  const db = d1Shim(sqlite);
  const DIMENSIONS = 768;
  const vectors = new Map(); // id -> {values, namespace, metadata}
  const ai = {
    async run(model, inputs) {
      if (model === p.RERANK_MODEL) {
        const scored = inputs.contexts.map((c, id) => ({ id, score: p.tokenOverlapScore(inputs.query, c.text ?? "") }));
        return { response: scored.sort((a, b) => b.score - a.score || a.id - b.id) };
      }
      return { shape: [inputs.text.length, DIMENSIONS], data: inputs.text.map((t) => p.hashEmbedding(t, DIMENSIONS)) };
    },
  };
  const index = {
    async query(vector, options) {
      const scored = [];
      for (const [id, v] of vectors) {
        if (options.namespace !== undefined && v.namespace !== options.namespace) continue;
        if (!p.matchesFilter(v.metadata, options.filter)) continue;
        scored.push({ id, score: p.cosine(vector, v.values), metadata: v.metadata });
      }
      scored.sort((a, b) => b.score - a.score);
      const all = options.returnMetadata === "all";
      return {
        matches: scored.slice(0, options.topK).map((m) => ({ id: m.id, score: m.score, ...(all ? { metadata: m.metadata } : {}) })),
      };
    },
    async getByIds(ids) {
      return ids.filter((id) => vectors.has(id)).map((id) => ({ id, values: [], metadata: vectors.get(id).metadata }));
    },
  };
  const retry = { attempts: 1, baseDelayMs: 0, sleep: async () => {} };
  let stores = 0;

  return {
    async createStore() {
      stores += 1;
      return {
        org: "org_eval",
        store: {
          id: `vs_eval_${stores}`,
          organization_id: "org_eval",
          name: "eval",
          created_at: "2026-12-02T00:00:00Z",
          embedding_model: "@cf/baai/bge-base-en-v1.5",
          dimensions: DIMENSIONS,
          text_fields: null,
          metadata_fields: null,
          ledger_shard: 0,
          vector_index: 0,
        },
      };
    },
    async push(tenant, namespace, tickets) {
      const store = tenant.store;
      const version = "2026-12-02T00:00:00.000000000Z";
      const indexNamespace = await p.vectorNamespace(store.id, namespace);
      const writes = [];
      for (const t of tickets) {
        const data = JSON.stringify(t.data);
        const record = {
          data,
          file: null,
          createdAt: null,
          sourceSystem: null,
          text: null,
          metadata: null,
          vector: null,
          contentHash: t.id,
        };
        const chunks = p.searchableChunks(store, record);
        chunks.forEach((text, chunk) => {
          const metadata = { organization_id: store.organization_id, vector_store_id: store.id, namespace, record_id: t.id, chunk };
          vectors.set(`${store.id}/${t.id}/${chunk}`, { values: p.hashEmbedding(text, DIMENSIONS), namespace: indexNamespace, metadata });
        });
        writes.push({
          namespace,
          id: t.id,
          key: `${namespace}\u0000${t.id}`,
          version,
          updatedAt: null,
          record,
          previousChunkCount: 0,
          chunkCount: chunks.length,
        });
      }
      const plan = { writes, touches: [], sweeps: [], refreshedNamespaces: [] };
      const sync = {
        id: `sync_${store.id}`,
        organizationId: store.organization_id,
        vectorStoreId: store.id,
        mode: "incremental",
        syncTimestamp: version,
        status: "success",
        result: {},
        mutationIds: [],
      };
      await p.commitPlan(db, plan, sync, version, null, (w) => p.searchableChunks(store, w.record));
    },
    async search(tenant, body) {
      const started = performance.now();
      const json = await p.searchStore({ ai, index, retry, db, primary: db, reranker: ai }, tenant.store, body);
      return { json, ms: performance.now() - started };
    },
    async close() {
      sqlite.close();
    },
  };
}
