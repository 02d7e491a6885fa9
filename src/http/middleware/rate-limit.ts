import { createMiddleware } from "hono/factory";
import type { AppEnv, Bindings } from "../../env";
import { ApiError } from "../../base/errors";

/** The Bindings that are Workers Rate Limiting bindings. */
type RateLimiterName = { [K in keyof Bindings]-?: Bindings[K] extends RateLimit ? K : never }[keyof Bindings];

/**
 * Per-organization rate limit through a Rate Limiting binding: `limit` and `periodSeconds` must
 * match the binding's `simple` settings in wrangler.toml (the binding enforces them; these only
 * word the 429). Runs after apiKeyAuth; the key is the API key's organization.
 */
export function rateLimit(binding: RateLimiterName, limit: number, what: string, periodSeconds: 10 | 60 = 60) {
  const per = periodSeconds === 60 ? "minute" : `${periodSeconds} seconds`;
  return createMiddleware<AppEnv>(async (c, next) => {
    const org = c.get("apiKey").organization_id;
    const { success } = await c.env[binding].limit({ key: org });
    if (!success) {
      throw new ApiError(
        429,
        "RATE_LIMIT_EXCEEDED",
        `Too many ${what} requests for this organization. Retry later.`,
        "rate_limit_error",
        { limit, period_seconds: periodSeconds },
        `Rate limit of ${limit} ${what} requests per ${per} exceeded`,
        { "Retry-After": String(periodSeconds) },
      );
    }
    await next();
  });
}

/** 100 sync requests per minute per organization (the contract's limit): SYNC_RATE_LIMITER. */
export const syncRateLimit = rateLimit("SYNC_RATE_LIMITER", 100, "sync");

/** 300 searches per minute per organization: SEARCH_RATE_LIMITER. Reads of records and namespaces are not limited. */
export const searchRateLimit = rateLimit("SEARCH_RATE_LIMITER", 300, "search");
