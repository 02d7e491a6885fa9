// D1 read replicas, through the Sessions API (withSession). A read path reads a ledger shard (and
// the catalog, for a store's row) from the nearest replica unless the client brings a bookmark,
// and never trusts a replica's "not found": an absence is checked again at the primary
// (docs/measurements.md#latency). A sync's commit returns the bookmark of its shard, which the client may send
// back (X-D1-Bookmark) so that its next reads see its own writes.
import { Errors } from "../base/errors";
import type { ShardBookmark } from "../model/store-object";

/** What the read paths and the ledger's functions use of a database: a binding, or a session of one. */
export type D1Reader = Pick<D1Database, "prepare" | "batch">;

/** The header a sync answers with and the read paths accept: `<shard>:<D1 bookmark>`. */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

export function formatBookmark(b: ShardBookmark): string {
  return `${b.shard}:${b.bookmark}`;
}

/** The X-D1-Bookmark header, or null when absent; malformed: 400. */
export function parseBookmark(header: string | undefined): ShardBookmark | null {
  if (header === undefined) return null;
  // D1's session constraints are not bookmarks: a client does not choose to read the primary.
  const m = /^(0|[1-9]\d{0,3}):([\x21-\x7e]{1,200})$/.exec(header.trim());
  if (!m || m[2] === "first-primary" || m[2] === "first-unconstrained")
    throw Errors.validation({ [BOOKMARK_HEADER]: ["must be a bookmark returned by a sync (X-D1-Bookmark)"] });
  return { shard: Number(m[1]), bookmark: m[2]! };
}

/**
 * A read session on `db`: from the bookmark when given (at least as fresh as it), else from any
 * replica. A binding without sessions (a test's stand-in) reads as it is.
 */
export function readSession(db: D1Database, bookmark: string | null = null): D1Reader {
  if (typeof db.withSession !== "function") return db;
  return db.withSession(bookmark ?? "first-unconstrained");
}
