import { Hono } from "hono";
import type { AppEnv } from "./env";
import { ApiError, errorResponse } from "./base/errors";
import { runScheduled } from "./jobs/scheduled";
import { closestRoute, describeRoute, type Route } from "./http/closest-route";
import { requestId } from "./http/middleware/request-id";
import { healthRoutes } from "./http/routes/health";
import { openApiRoutes } from "./http/routes/openapi";
import { docsRoutes } from "./http/routes/docs";
import { syncRoutes } from "./http/routes/sync";
import { vectorStoreRoutes } from "./http/routes/vector-stores";
import { adminRoutes } from "./http/routes/admin";

export const app = new Hono<AppEnv>();

app.use("*", requestId);
app.route("/", healthRoutes);
app.route("/", openApiRoutes);
app.route("/", docsRoutes);
app.route("/", syncRoutes);
app.route("/", vectorStoreRoutes);
app.route("/", adminRoutes);

// The routes a 404 may point at: the API's, each method and path once (middleware and "*" left out).
const servedRoutes = () => {
  const seen = new Map<string, Route>();
  for (const { method, path } of app.routes) {
    if (method !== "ALL" && !path.includes("*")) seen.set(`${method} ${path}`, { method, path });
  }
  return [...seen.values()];
};

app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  const shown = path.length > 200 ? `${path.slice(0, 199)}…` : path;
  const closest = closestRoute(c.req.method, path, servedRoutes());
  const hint = closest ? ` Did you mean ${describeRoute(closest)}?` : "";
  return errorResponse(
    c,
    new ApiError(404, "NOT_FOUND", `No route for ${c.req.method} ${shown}.${hint} Every route is listed at /docs.`, "not_found_error", {
      closest_route: closest ? describeRoute(closest) : null,
      docs: "/docs",
    }),
  );
});

app.onError((err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  // Unknown failures are logged with the trace id and answered without internals.
  console.error(JSON.stringify({ level: "error", trace_id: c.get("requestId"), error: err.name, message: err.message }));
  return errorResponse(
    c,
    new ApiError(
      500,
      "INTERNAL_ERROR",
      "An internal error occurred. Retry later or contact support with the trace id.",
      "api_error",
      {},
      "Internal server error",
    ),
  );
});

export { VectorStoreSync } from "./store/store-object";

export default {
  fetch: app.fetch,
  // Cron Trigger (wrangler.toml [triggers]): runScheduled.
  scheduled(_controller, env, ctx) {
    runScheduled(env, ctx);
  },
} satisfies ExportedHandler<AppEnv["Bindings"]>;
