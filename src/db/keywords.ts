// All SQL of the keyword index: chunk_keywords, an FTS5 table beside the ledger in each shard
// (schema.sql). Contentless: it holds the index of every live record's chunk texts, not the
// texts, which derive from the record's stored data. A row's rowid is body_id * CHUNKS_PER_BODY +
// chunk, so a record's rows follow its body: triggers on record_bodies remove them whenever the
// body changes or goes; what writes them is here, run in the batch that writes the body.
import type { D1Reader } from "./sessions";
import { JsonChunker } from "../base/json/json-chunks";
import { MAX_CHUNKS_PER_RECORD } from "../vectors/text";

/** Rowids per body: a record has at most MAX_CHUNKS_PER_RECORD chunks (schema.sql's triggers use 256). */
export const CHUNKS_PER_BODY = MAX_CHUNKS_PER_RECORD;

/** Phrases of a query's text used at most (the rest is left out): the work per search stays bounded. */
export const MAX_KEYWORD_PHRASES = 64;

/** A record's chunk texts for the keyword index, keyed like the ledger row it belongs to. */
export interface KeywordRow {
  namespace: string;
  id: string;
  /** The write's version: rows are written only if the ledger row holds this version after the commit. */
  version: string;
  texts: string[];
}

// The rows of the live records whose state row holds the write's version after the state upsert
// (the same guard as UPSERT_BODIES: a write the version guard refused writes nothing). Pieces
// of [namespace, id, version, [text, ...]].
const INSERT_KEYWORDS = `
  INSERT INTO chunk_keywords (rowid, scope, text)
  SELECT s.body_id * ${CHUNKS_PER_BODY} + c.key, 's' || hex(?1) || ' n' || hex(s.namespace), c.value
  FROM json_each(?2) j CROSS JOIN record_state s
    ON s.vector_store_id = ?1 AND s.namespace = j.value ->> 0 AND s.id = j.value ->> 1
  CROSS JOIN json_each(j.value -> 3) c
  WHERE s.deleted = 0 AND s.body_id IS NOT NULL AND s.version = j.value ->> 2 AND c.key < ${CHUNKS_PER_BODY}`;

/** Serialises keyword rows into JSON pieces under D1's parameter size, one row at a time. */
export class KeywordPieces {
  private readonly chunker = new JsonChunker();
  add(row: KeywordRow): void {
    if (row.texts.length > 0) this.chunker.add(JSON.stringify([row.namespace, row.id, row.version, row.texts]));
  }
  finish(): string[] {
    return this.chunker.finish();
  }
}

/** The statements writing keyword rows, for the batch that writes (or has written) the bodies. */
export function insertKeywordStatements(db: D1Reader, storeId: string, pieces: string[]): D1PreparedStatement[] {
  return pieces.map((json) => db.prepare(INSERT_KEYWORDS).bind(storeId, json));
}

// The rows of given bodies, removed: reconciliation rewrites a record's rows whole.
const DELETE_KEYWORDS = `
  DELETE FROM chunk_keywords WHERE rowid IN (
    SELECT k.rowid FROM json_each(?1) j JOIN chunk_keywords k
      ON k.rowid BETWEEN j.value * ${CHUNKS_PER_BODY} AND j.value * ${CHUNKS_PER_BODY} + ${CHUNKS_PER_BODY - 1})`;

/** Replaces the keyword rows of the given records (reconciliation's repair), in one batch. */
export async function rewriteKeywords(db: D1Reader, storeId: string, bodyIds: number[], rows: KeywordRow[]): Promise<void> {
  if (bodyIds.length === 0) return;
  const pieces = new KeywordPieces();
  for (const row of rows) pieces.add(row);
  await db.batch([db.prepare(DELETE_KEYWORDS).bind(JSON.stringify(bodyIds)), ...insertKeywordStatements(db, storeId, pieces.finish())]);
}

/** How many keyword rows each given body has (reconciliation compares them with its chunk count). */
export async function countKeywordRows(db: D1Reader, bodyIds: number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  if (bodyIds.length === 0) return counts;
  const { results } = await db
    .prepare(`
      SELECT j.value AS body_id, count(k.rowid) AS n FROM json_each(?1) j JOIN chunk_keywords k
        ON k.rowid BETWEEN j.value * ${CHUNKS_PER_BODY} AND j.value * ${CHUNKS_PER_BODY} + ${CHUNKS_PER_BODY - 1}
      GROUP BY j.value`)
    .bind(JSON.stringify(bodyIds))
    .all<{ body_id: number; n: number }>();
  for (const r of results) counts.set(Number(r.body_id), Number(r.n));
  return counts;
}

/** Hex of the UTF-8 bytes, as SQLite's hex() writes it: the scope tokens' spelling. */
function hexOf(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += byte.toString(16).padStart(2, "0").toUpperCase();
  return out;
}

/**
 * The FTS5 query for a client's text, never the text as query syntax: each whitespace-separated
 * piece becomes one quoted phrase of its letters and digits (`PN-48213` is the phrase "PN 48213",
 * `NEAR(` the word NEAR, `"`, `*` or `-` alone nothing), the phrases joined by OR (BM25 ranks the
 * chunks with more and rarer of them first), within the store's scope and, when named, its
 * namespaces. null: the text has no word, so nothing can match.
 */
export function keywordQuery(storeId: string, namespaces: string[] | undefined, text: string): string | null {
  const phrases: string[] = [];
  for (const piece of text.split(/\s+/)) {
    const words = piece.match(/[\p{L}\p{N}\p{M}]+/gu);
    if (!words) continue;
    phrases.push(`"${words.join(" ")}"`);
    if (phrases.length === MAX_KEYWORD_PHRASES) break;
  }
  if (phrases.length === 0) return null;
  const scope = [`scope : "s${hexOf(storeId)}"`];
  if (namespaces) scope.push(`scope : (${namespaces.map((ns) => `"n${hexOf(ns)}"`).join(" OR ")})`);
  return `${scope.join(" AND ")} AND text : (${phrases.join(" OR ")})`;
}

export interface KeywordHit {
  namespace: string;
  id: string;
  chunk: number;
  /** BM25, larger is better. */
  score: number;
  data: string;
  file: string | null;
  text: string | null;
  vector: string | null;
  metadata: string | null;
  chunk_count: number;
}

// Best first by BM25 (the scope column weighs nothing), at most ?3 chunks; each hit with its live
// record, read in the same statement (the index holds only live records' rows, and the join
// keeps it so should a row outlive its record). CROSS JOIN fixes the order: the ranked chunks
// outside, each record found by its body. Left to the planner, it took the store's rows by
// vector_store_id outside and ran the FTS query once per row: 60 s for 5000 records against 15 ms
// (better-sqlite3's SQLite 3.53; the same in local D1, where npm run latency's search took 48 s).
const SEARCH_KEYWORDS = `
  SELECT s.namespace, s.id, k.rowid % ${CHUNKS_PER_BODY} AS chunk, k.score, b.data, b.file, b.text, b.vector, b.metadata,
         s.chunk_count
  FROM (SELECT rowid, -rank AS score FROM chunk_keywords
        WHERE chunk_keywords MATCH ?2 AND rank MATCH 'bm25(0.0, 1.0)' ORDER BY rank LIMIT ?3) k
  CROSS JOIN record_state s ON s.body_id = k.rowid / ${CHUNKS_PER_BODY}
  CROSS JOIN record_bodies b ON b.body_id = s.body_id
  WHERE s.vector_store_id = ?1 AND s.deleted = 0 AND k.rowid % ${CHUNKS_PER_BODY} < s.chunk_count
  ORDER BY k.score DESC`;

/** The best `limit` chunks for an FTS5 query made by keywordQuery. */
export async function searchKeywords(db: D1Reader, storeId: string, query: string, limit: number): Promise<KeywordHit[]> {
  const { results } = await db.prepare(SEARCH_KEYWORDS).bind(storeId, query, limit).all<KeywordHit>();
  return results.map((r) => ({ ...r, chunk: Number(r.chunk), score: Number(r.score), chunk_count: Number(r.chunk_count) }));
}
