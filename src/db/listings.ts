// Paginated reads for the API's list endpoints. Cursors are opaque to clients: base64url JSON of
// the last row's sort key, so a page never depends on an offset (rows may arrive meanwhile).
import type { z } from "zod";
import type { D1Reader } from "./sessions";
import type { RecordListResponse, SyncListResponse } from "../schemas/lists";
import { withStale } from "../schemas/sync";
import { displayTimestamp } from "../base/timestamps";

export function encodeCursor(key: string[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key)); // ids may be any Unicode: base64 of UTF-8
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The sort key inside a cursor this service made, or null for anything else. */
export function decodeCursor(cursor: string, length: number): string[] | null {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const key = JSON.parse(text) as unknown;
    return Array.isArray(key) && key.length === length && key.every((k) => typeof k === "string") ? key : null;
  } catch {
    return null;
  }
}

/** One sync of GET /v1/connectors/pipeline/syncs. */
export type SyncListItem = z.infer<typeof SyncListResponse>["syncs"][number];

interface SyncListRow extends Omit<SyncListItem, "results" | "final" | "sync_id"> {
  id: string;
  results: string;
  final: number | null;
}

/**
 * An organization's syncs, newest first: of one store, or of the stores a restricted key may use
 * (`stores`), or all. One index range each (syncs_by_store, syncs_by_org) in each ledger shard
 * given (those holding the organization's stores), read in parallel and merged; a sync found in
 * two shards (its store's move is between copy and cleanup) is listed once.
 */
export async function listSyncs(
  shards: D1Reader[],
  organizationId: string,
  filter: { store: string | null; stores: string[] | null },
  after: [string, string] | null,
  limit: number,
): Promise<{ items: SyncListItem[]; next: [string, string] | null }> {
  const where = filter.store !== null ? "vector_store_id = ?1" : "organization_id = ?1";
  const pages = await Promise.all(
    shards.map(async (db) => {
      const { results } = await db
        .prepare(`
      SELECT id, vector_store_id, sync_mode, sync_timestamp, status, created_at,
             json_extract(result, '$.processed') AS processed, json_extract(result, '$.results') AS results,
             json_extract(result, '$.run.final') AS final
      FROM syncs WHERE ${where} AND (?2 IS NULL OR vector_store_id IN (SELECT value FROM json_each(?2)))
        AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
      ORDER BY created_at DESC, id DESC LIMIT ?5`)
        .bind(
          filter.store ?? organizationId,
          filter.stores ? JSON.stringify(filter.stores) : null,
          after?.[0] ?? null,
          after?.[1] ?? null,
          limit + 1,
        )
        .all<SyncListRow>();
      return results;
    }),
  );
  const seen = new Set<string>();
  const results = pages
    .flat()
    .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.created_at < b.created_at ? 1 : -1))
    .filter((row) => !seen.has(row.id) && seen.add(row.id) !== undefined)
    .slice(0, limit + 1);
  const page = results.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ id, results: counts, final, ...row }) => ({
      sync_id: id,
      ...row,
      results: withStale(JSON.parse(counts)),
      final: final === null ? null : final === 1,
    })),
    next: results.length > limit && last ? [last.created_at, last.id] : null,
  };
}

/** One record of GET /v1/vector_stores/{id}/records/{namespace}. */
export type RecordListItem = z.infer<typeof RecordListResponse>["records"][number];

/** A namespace's live records in id order (tombstones are never listed). */
export async function listRecords(
  db: D1Reader,
  storeId: string,
  namespace: string,
  after: string | null,
  limit: number,
): Promise<{ items: RecordListItem[]; next: string | null }> {
  const { results } = await db
    .prepare(`
      SELECT id, created_at, updated_at, synced_at, sync_id FROM record_state
      WHERE vector_store_id = ?1 AND namespace = ?2 AND deleted = 0 AND id > ?3
      ORDER BY id LIMIT ?4`)
    .bind(storeId, namespace, after ?? "", limit + 1)
    .all<RecordListItem>();
  const page = results.slice(0, limit).map((r) => ({ ...r, synced_at: displayTimestamp(r.synced_at) }));
  return { items: page, next: results.length > limit ? page.at(-1)!.id : null };
}
