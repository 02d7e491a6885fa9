import { randomToken, sha256Hex } from "../base/crypto";
import type { ApiKeyRecord } from "../model/api-key";

const HASH_PREFIX = "key:";
const ID_PREFIX = "keyid:";

/**
 * Seconds a key's record may be served from the edge cache of the location reading it (KV's
 * cacheTtl, at least KV's minimum): a read then costs no trip to KV's central store. A revoked
 * key's stale record is harmless: revocations are checked in D1 (docs/measurements.md#latency).
 */
export const API_KEY_CACHE_TTL_SECONDS = 60;

export async function findApiKey(kv: KVNamespace, plaintext: string): Promise<ApiKeyRecord | null> {
  return kv.get<ApiKeyRecord>(HASH_PREFIX + (await sha256Hex(plaintext)), { type: "json", cacheTtl: API_KEY_CACHE_TTL_SECONDS });
}

/** Stores a key under its hash and an index from key_id to that hash (for revocation). */
export async function storeApiKey(kv: KVNamespace, plaintext: string, record: ApiKeyRecord): Promise<void> {
  const hash = await sha256Hex(plaintext);
  await Promise.all([kv.put(HASH_PREFIX + hash, JSON.stringify(record)), kv.put(ID_PREFIX + record.key_id, hash)]);
}

export async function createApiKey(
  kv: KVNamespace,
  organizationId: string,
  vectorStoreIds: string[] | null,
): Promise<{ apiKey: string; record: ApiKeyRecord }> {
  const apiKey = `usk_${randomToken(24)}`;
  const record: ApiKeyRecord = {
    key_id: `key_${randomToken(8)}`,
    organization_id: organizationId,
    vector_store_ids: vectorStoreIds,
    created_at: new Date().toISOString(),
    revoked: false,
  };
  await storeApiKey(kv, apiKey, record);
  return { apiKey, record };
}

/**
 * Revokes a key: recorded in D1 first, which every request checks and which is consistent at
 * once, then marked in KV (which takes up to about 60 s to reach every location). Returns false
 * for an unknown key_id.
 */
export async function revokeApiKey(kv: KVNamespace, db: D1Database, keyId: string): Promise<boolean> {
  const hash = await kv.get(ID_PREFIX + keyId);
  if (!hash) return false;
  const record = await kv.get<ApiKeyRecord>(HASH_PREFIX + hash, "json");
  if (!record) return false;
  await db
    .prepare("INSERT INTO revoked_api_keys (key_id, revoked_at) VALUES (?1, ?2) ON CONFLICT (key_id) DO NOTHING")
    .bind(keyId, new Date().toISOString())
    .run();
  await kv.put(HASH_PREFIX + hash, JSON.stringify({ ...record, revoked: true }));
  return true;
}

/**
 * Whether the catalog (the primary: a replica's "not revoked" may be stale) has the key revoked.
 * `concurrent`: the caller runs the request meanwhile and awaits this only before answering; the
 * SQL then says so (a comment, read by `npm run latency`'s recorder, which models it as a branch
 * of its own rather than a step the request waits for).
 */
export async function isRevoked(db: D1Database, keyId: string, concurrent = false): Promise<boolean> {
  return (await revocationStatement(db, keyId, concurrent).first()) !== null;
}

/** The query whether a key is revoked (a row, or none), for a batch. */
export function revocationStatement(db: D1Database, keyId: string, concurrent = false): D1PreparedStatement {
  return db.prepare(`SELECT 1 AS revoked FROM revoked_api_keys WHERE key_id = ?1${concurrent ? " /* concurrent */" : ""}`).bind(keyId);
}

/** Compares two secrets in time independent of where they differ. */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  // Hashing first gives equal-length inputs, so the length of the secret does not leak either.
  const [ha, hb] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s))));
  return crypto.subtle.timingSafeEqual(ha!, hb!);
}
