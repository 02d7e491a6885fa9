import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { Errors } from "../errors";
import { findApiKey } from "../auth/api-keys";

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
  if (!record || record.revoked) throw Errors.invalidApiKey();
  c.set("apiKey", record);
  await next();
});
