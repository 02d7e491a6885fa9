import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

const PERIOD_SECONDS = 60; // matches `simple.period` of SYNC_RATE_LIMITER in wrangler.toml

/** 100 sync requests per minute per organization (the contract's limit), via the Rate Limiting binding. */
export const syncRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const org = c.get("apiKey").organization_id;
  const { success } = await c.env.SYNC_RATE_LIMITER.limit({ key: org });
  if (!success) {
    throw new ApiError(429, "RATE_LIMIT_EXCEEDED", "Too many sync requests for this organization. Retry later.",
      "rate_limit_error", { limit: 100, period_seconds: PERIOD_SECONDS }, "Rate limit of 100 sync requests per minute exceeded",
      { "Retry-After": String(PERIOD_SECONDS) });
  }
  await next();
});
