import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { newRequestId } from "../../base/errors";

/** Gives every request a trace id, echoed as X-Request-Id on every response. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = newRequestId();
  c.set("requestId", id);
  await next();
  c.header("X-Request-Id", id);
});
