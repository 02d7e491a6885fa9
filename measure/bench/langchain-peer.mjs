// The peer the bench measures ours against: LangChain.js `index()` (@langchain/core, pinned in
// package.json) with an in-memory record manager and an in-memory vector store, embedding with this
// project's own local stand-in function (hashEmbedding, 768 dimensions) over exactly the chunk texts
// the project derives for each record (recordChunks: same derivation, same chunking).
//
// LangChain.js ships neither in-memory piece in @langchain/core: its InMemoryRecordManager lives in
// @langchain/community (125 packages, 196 MB installed, an engines warning on Node 20) and the
// MemoryVectorStore of @langchain/classic has no delete(), which index() needs for any cleanup.
// So: InMemoryRecordManager below is @langchain/community 1.1.29's (src/indexes/memory.ts, MIT),
// copied as it is but for getTime (see there); InMemoryVectorStore is the smallest store that
// honours ids and delete(), a Map from id to vector, like Python's langchain_core InMemoryVectorStore.
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { index, RecordManager } from "@langchain/core/indexing";
import { VectorStore } from "@langchain/core/vectorstores";

export const LANGCHAIN_CORE_VERSION = (await import("@langchain/core/package.json", { with: { type: "json" } })).default.version;

/** @langchain/community 1.1.29's InMemoryRecordManager. */
export class InMemoryRecordManager extends RecordManager {
  lc_namespace = ["langchain", "recordmanagers", "memory"];

  constructor() {
    super();
    this.records = new Map();
  }

  async createSchema() {}

  // The one change: the original answers Date.now(), whose millisecond steps make index() delete
  // what it has just written when a batch ends within the millisecond it started (listKeys takes
  // `updatedAt <= before`). Python's in-memory manager uses a float clock; so does this.
  async getTime() {
    return performance.timeOrigin + performance.now();
  }

  async update(keys, updateOptions) {
    const updatedAt = await this.getTime();
    const { timeAtLeast, groupIds: _groupIds } = updateOptions ?? {};
    if (timeAtLeast && updatedAt < timeAtLeast) throw new Error(`Time sync issue with database ${updatedAt} < ${timeAtLeast}`);
    const groupIds = _groupIds ?? keys.map(() => null);
    if (groupIds.length !== keys.length)
      throw new Error(`Number of keys (${keys.length}) does not match number of group_ids ${groupIds.length})`);
    keys.forEach((key, i) => {
      const old = this.records.get(key);
      if (old) old.updatedAt = updatedAt;
      else this.records.set(key, { updatedAt, groupId: groupIds[i] });
    });
  }

  async exists(keys) {
    return keys.map((key) => this.records.has(key));
  }

  async listKeys(options) {
    const { before, after, limit, groupIds } = options ?? {};
    const filteredRecords = Array.from(this.records).filter(([_key, doc]) => {
      const isBefore = !before || doc.updatedAt <= before;
      const isAfter = !after || doc.updatedAt >= after;
      const belongsToGroup = !groupIds || groupIds.includes(doc.groupId);
      return isBefore && isAfter && belongsToGroup;
    });
    return filteredRecords.map(([key]) => key).slice(0, limit ?? filteredRecords.length);
  }

  async deleteKeys(keys) {
    for (const key of keys) this.records.delete(key);
  }
}

/** Vectors by id, in memory: add (with the ids index() passes), delete by id, cosine search. */
export class InMemoryVectorStore extends VectorStore {
  vectors = new Map();

  _vectorstoreType() {
    return "in_memory";
  }

  async addDocuments(documents, options) {
    return this.addVectors(await this.embeddings.embedDocuments(documents.map((d) => d.pageContent)), documents, options);
  }

  async addVectors(vectors, documents, options) {
    const ids = options?.ids ?? documents.map((d, i) => d.id ?? `${this.vectors.size + i}`);
    vectors.forEach((vector, i) => {
      this.vectors.set(ids[i], { vector, content: documents[i].pageContent, metadata: documents[i].metadata });
    });
    return ids;
  }

  async delete(params) {
    for (const id of params?.ids ?? []) this.vectors.delete(id);
  }

  async similaritySearchVectorWithScore(query, k) {
    const scored = [];
    for (const [id, { vector, content, metadata }] of this.vectors) {
      let dot = 0;
      for (let i = 0; i < query.length; i++) dot += query[i] * vector[i];
      scored.push([new Document({ id, pageContent: content, metadata }), dot]); // unit vectors: dot = cosine
    }
    return scored.sort((a, b) => b[1] - a[1]).slice(0, k);
  }
}

/** The project's local stand-in embedding (what its dev Workers AI answers), as a LangChain Embeddings. */
export class StandInEmbeddings extends Embeddings {
  constructor(hashEmbedding, dimensions = 768) {
    super({});
    this.hashEmbedding = hashEmbedding;
    this.dimensions = dimensions;
  }

  async embedDocuments(texts) {
    this.textsEmbedded += texts.length;
    return texts.map((t) => this.hashEmbedding(t, this.dimensions));
  }

  async embedQuery(text) {
    return this.hashEmbedding(text, this.dimensions);
  }

  textsEmbedded = 0;
}

/**
 * One LangChain "store": a record manager and a vector store that live across syncs. `sync(ops)`
 * does for the same operations what our sync does: each upserted record becomes its chunk texts
 * (Documents whose source is the record) and index() adds the new chunks, skips the known ones
 * and, with cleanup "full", removes every chunk it was not given: the old chunks of changed
 * records and those of deleted records. Every scenario sends the store's whole set of records, so
 * "full" is exact here, and it is LangChain's cheaper mode: "incremental" scans the whole record
 * manager once per batch of 100 (2.2 s instead of 0.6 s for an unchanged re-sync of 5000 records
 * here) and re-embeds the chunks of a record that straddles two batches on every re-sync (33 here),
 * since the first batch's cleanup deletes the record's chunks the second batch has not touched yet.
 * Timed from the operations to the last write.
 */
export function langchainStore(floorLib) {
  const embeddings = new StandInEmbeddings(floorLib.hashEmbedding);
  const vectorStore = new InMemoryVectorStore(embeddings, {});
  return { sync: indexSync(floorLib, embeddings, new InMemoryRecordManager(), vectorStore, () => vectorStore.vectors.size) };
}

/**
 * One peer's sync: the upserts' chunk texts (the service's own derivation and chunking), one
 * Document per chunk, given to index() with cleanup "full"; timed from the operations to the last
 * write, with the texts embedded and the vectors held after (`vectorCount()`).
 */
export function indexSync(floorLib, embeddings, recordManager, vectorStore, vectorCount) {
  return async (ops) => {
    embeddings.textsEmbedded = 0;
    const started = performance.now();
    const docs = [];
    for (const op of ops) {
      if (op.action !== "upsert") continue; // a delete: its record's chunks are not given, so cleanup removes them
      const source = `${op.namespace}/${op.id}`;
      floorLib.recordChunks({ text_fields: null }, textSource(op)).forEach((text, chunk) => {
        docs.push(new Document({ pageContent: text, metadata: { source, chunk } }));
      });
    }
    const result = await index({ docsSource: docs, recordManager, vectorStore, options: { cleanup: "full", sourceIdKey: "source" } });
    const ms = performance.now() - started;
    return { ms, result, texts_embedded: embeddings.textsEmbedded, vectors: vectorCount() };
  };
}

/**
 * What recordChunks reads of a record: its parsed data (the peer has the objects in hand), and
 * its data as JSON only if the derivation asks for that form instead.
 */
export function textSource(op) {
  return {
    text: null,
    file: null,
    parsed: { data: op.data, file: null },
    get data() {
      return JSON.stringify(op.data);
    },
  };
}
