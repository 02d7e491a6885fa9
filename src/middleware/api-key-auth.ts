import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { Errors } from "../errors";
import { findApiKey, isRevoked } from "../auth/api-keys";

function presentedKey(header: (name: string) => string | undefined): string | null {
  const xApiKey = header("X-API-Key")?.trim();
  if (xApiKey) return xApiKey;
  const auth = header("Authorization")?.trim();
  const match = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return match ? match[1]! : null;
}

/** Resolves the pipeline API key (X-API-Key, or Authorization: Bearer) to its KV record. */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const key = presentedKey((name) => c.req.header(name));
  if (!key) throw Errors.authenticationRequired();
  const record = await findApiKey(c.env.API_KEYS, key);
  // KV may still serve a just-revoked key for up to a minute in other locations; D1 does not.
  if (!record || record.revoked || (await isRevoked(c.env.DB, record.key_id))) throw Errors.invalidApiKey();
  c.set("apiKey", record);
  await next();
});
