import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { Errors } from "../../base/errors";
import { findApiKey, isRevoked } from "../../auth/api-keys";
import { knownRevoked, rememberRevoked } from "../../auth/revocations";
import type { ApiKeyRecord } from "../../model/api-key";

function presentedKey(header: (name: string) => string | undefined): string | null {
  const xApiKey = header("X-API-Key")?.trim();
  if (xApiKey) return xApiKey;
  const auth = header("Authorization")?.trim();
  const match = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return match ? match[1]! : null;
}

/**
 * The key's KV record (read through the edge cache), refused when unknown, marked revoked, or
 * known revoked to this isolate: all local, before the rate limiter.
 */
async function localKey(c: Context<AppEnv>): Promise<ApiKeyRecord> {
  const key = presentedKey((name) => c.req.header(name));
  if (!key) throw Errors.authenticationRequired();
  const record = await findApiKey(c.env.API_KEYS, key);
  if (!record || record.revoked || knownRevoked(record.key_id)) throw Errors.invalidApiKey();
  return record;
}

/**
 * Resolves the pipeline API key (X-API-Key, or Authorization: Bearer) to its KV record, and checks
 * the catalog's revocations: KV may still serve a just-revoked key for up to a minute in other
 * locations (and its edge cache for cacheTtl); D1 does not.
 */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const record = await localKey(c);
  if (await isRevoked(c.env.DB, record.key_id)) {
    rememberRevoked(record.key_id);
    throw Errors.invalidApiKey();
  }
  c.set("apiKey", record);
  await next();
});

/**
 * The sync route's: the local checks only. Revocation is checked by the store's object in its first
 * D1 batch, before it answers anything else (runStoreSync), so the sync path makes one
 * remote call; a key found revoked there is remembered (syncThroughStoreObject).
 */
export const apiKeyAuthDeferred = createMiddleware<AppEnv>(async (c, next) => {
  c.set("apiKey", await localKey(c));
  await next();
});

/**
 * The read routes': the local checks, then the route runs while the catalog's primary answers
 * whether the key is revoked (never a replica: a replica's "not revoked" may be stale). A revoked
 * key's answer is the 401, whatever the route found.
 */
export const apiKeyAuthConcurrent = createMiddleware<AppEnv>(async (c, next) => {
  const record = await localKey(c);
  c.set("apiKey", record);
  const revoked = isRevoked(c.env.DB, record.key_id, true).then(
    (yes) => {
      if (yes) rememberRevoked(record.key_id);
      return { yes };
    },
    (error: unknown) => ({ error }),
  );
  // Hono has made the route's answer (an error's too) by the time next() returns: a 401 thrown now
  // replaces it.
  await next();
  const check = await revoked;
  if ("error" in check) throw check.error;
  if (check.yes) throw Errors.invalidApiKey();
});
