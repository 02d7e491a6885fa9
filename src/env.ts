import type { ApiKeyRecord } from "./auth/api-keys";

/** Bindings shared by production and the dev environment (see wrangler.toml). */
export interface Bindings {
  DB: D1Database;
  API_KEYS: KVNamespace;
  SYNC_RATE_LIMITER: RateLimit;
  ADMIN_TOKEN: string;
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: string;
}

export interface Variables {
  requestId: string;
  apiKey: ApiKeyRecord;
}

/** The one type every Hono app and sub-app of the service is built with. */
export type AppEnv = { Bindings: Bindings; Variables: Variables };
