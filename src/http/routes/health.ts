import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { describeOperation } from "../openapi/describe";

export const healthRoutes = new Hono<AppEnv>();
healthRoutes.get(
  "/health",
  describeOperation({
    operationId: "health",
    tag: "Service",
    summary: "Liveness (no authentication)",
    ok: { status: 200, description: "The Worker is up.", schema: "Health" },
    errors: [],
  }),
  (c) => c.json({ status: "ok" }),
);
