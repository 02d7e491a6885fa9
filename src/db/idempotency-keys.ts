// Idempotency-Key reservations (table idempotency_reservations, in the catalog): one row per
// (organization, key), 'pending' from before a sync starts until it commits ('completed') or
// fails (deleted). The insert is the only way to own a key, so two stores of one organization
// (two Durable Objects, perhaps two ledger shards) cannot both run the same key.
//
// The sync's id is fixed when the key is reserved and kept by the row. The sync commits in its
// store's ledger shard, and the key is completed in the catalog afterwards: two databases, two
// transactions. Should the worker die between the two, the key stays pending with that sync id;
// the request that takes the abandoned key over finds the sync committed in the shard and
// answers with its stored result instead of running it again (runStoreSync).

export interface IdempotencyKeyRow {
  reservation_id: string;
  body_hash: string;
  vector_store_id: string;
  state: "pending" | "completed";
  /** The sync this key runs or ran: fixed when reserved. */
  sync_id: string;
  created_at: string;
  completed_at: string | null;
}

// Inserts a pending reservation, or takes over a row that no longer counts: a pending one older
// than the abandonment bound (its worker died), a pending one of this store made by another
// instance of its object (?11: reservation ids start with their instance's prefix; a Durable
// Object has one live instance at a time, so that instance is gone and its sync never finished),
// or a completed one past the replay window.
// Anything else stays as it is. Taking over an abandoned reservation of the same body keeps its
// sync id (that sync may have committed before its worker died). Only for a request that may run:
// its API key not revoked (?10) and its store the organization's; otherwise nothing is written
// (the same batch reads both, and the request is refused).
const RESERVE = `
  INSERT INTO idempotency_reservations (organization_id, key, reservation_id, body_hash, vector_store_id, state,
                                        sync_id, created_at, completed_at)
  SELECT ?1, ?2, ?3, ?4, ?5, 'pending', ?9, ?6, NULL
  WHERE NOT EXISTS (SELECT 1 FROM revoked_api_keys WHERE key_id = ?10)
    AND EXISTS (SELECT 1 FROM vector_stores WHERE id = ?5 AND organization_id = ?1)
  ON CONFLICT (organization_id, key) DO UPDATE SET
    reservation_id = excluded.reservation_id, body_hash = excluded.body_hash,
    vector_store_id = excluded.vector_store_id,
    sync_id = iif(idempotency_reservations.state = 'pending' AND idempotency_reservations.body_hash = excluded.body_hash
                    AND idempotency_reservations.sync_id IS NOT NULL,
                  idempotency_reservations.sync_id, excluded.sync_id),
    state = 'pending', created_at = excluded.created_at, completed_at = NULL
  WHERE (idempotency_reservations.state = 'pending' AND idempotency_reservations.created_at < ?7)
     OR (idempotency_reservations.state = 'pending' AND idempotency_reservations.vector_store_id = ?5
         AND substr(idempotency_reservations.reservation_id, 1, length(?11)) <> ?11)
     OR (idempotency_reservations.state = 'completed' AND idempotency_reservations.completed_at < ?8)`;

const READ = `
  SELECT reservation_id, body_hash, vector_store_id, state, sync_id, created_at, completed_at
  FROM idempotency_reservations WHERE organization_id = ?1 AND key = ?2`;

export interface Reservation {
  organizationId: string;
  key: string;
  reservationId: string;
  bodyHash: string;
  vectorStoreId: string;
  syncId: string;
  /** The API key making the request: nothing is reserved for a revoked one. */
  apiKeyId: string;
  /** The prefix of every reservation id the store's object instance makes (reservationId starts with it). */
  instancePrefix: string;
  /** ISO timestamps: now, and the cut-offs before which a pending / completed row may be taken over. */
  now: string;
  abandonedBefore: string;
  expiredBefore: string;
}

/**
 * The two statements that try to reserve an Idempotency-Key for a sync of id `syncId` and read
 * the key's row as it then stands, for the request's first catalog batch (one transaction): the
 * reservation is the caller's when the row carries its reservationId (with `syncId`, or the sync
 * id of the abandoned reservation it took over); otherwise the row is another request's (pending,
 * or completed), or there is none (the request may not run).
 */
export function reservationStatements(catalog: D1Database, r: Reservation): D1PreparedStatement[] {
  return [
    catalog
      .prepare(RESERVE)
      .bind(
        r.organizationId,
        r.key,
        r.reservationId,
        r.bodyHash,
        r.vectorStoreId,
        r.now,
        r.abandonedBefore,
        r.expiredBefore,
        r.syncId,
        r.apiKeyId,
        r.instancePrefix,
      ),
    catalog.prepare(READ).bind(r.organizationId, r.key),
  ];
}

/** The key's row from the second statement's result. */
export function reservationFromResult(result: D1Result | undefined): IdempotencyKeyRow | null {
  return ((result?.results ?? []) as unknown as IdempotencyKeyRow[])[0] ?? null;
}

/**
 * Completes the caller's own reservation once its sync has committed: only while it is still this
 * request's and pending. Had it been taken over as abandoned, the sync still committed, and the
 * request that took the key over finds it (same sync id) and answers with it.
 */
export async function completeIdempotencyKey(catalog: D1Database, organizationId: string, key: string, reservationId: string, at: string) {
  await catalog
    .prepare(`UPDATE idempotency_reservations SET state = 'completed', completed_at = ?4
              WHERE organization_id = ?1 AND key = ?2 AND reservation_id = ?3 AND state = 'pending'`)
    .bind(organizationId, key, reservationId, at)
    .run();
}

/** Gives up the caller's pending reservation (its sync failed before committing), so that a retry can run. */
export async function releaseIdempotencyKey(catalog: D1Database, organizationId: string, key: string, reservationId: string) {
  await catalog
    .prepare(`DELETE FROM idempotency_reservations
              WHERE organization_id = ?1 AND key = ?2 AND reservation_id = ?3 AND state = 'pending'`)
    .bind(organizationId, key, reservationId)
    .run();
}

/** How long a stored answer is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
