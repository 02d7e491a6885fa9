import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ApiError, errorResponse } from "../base/errors";
import { closestRoute, describeRoute, type Route } from "./closest-route";
import { requestId } from "./middleware/request-id";
import { healthRoutes } from "./routes/health";
import { openApiRoutes } from "./routes/openapi";
import { docsRoutes } from "./routes/docs";
import { syncRoutes } from "./routes/sync";
import { vectorStoreRoutes } from "./routes/vector-stores";
import { adminRoutes } from "./routes/admin";

// The Worker's HTTP app: every route, the 404 of a path none serves, and the one error envelope.
// GET /openapi.json describes this very app, from the routes' own descriptions.
export const app = new Hono<AppEnv>();

app.use("*", requestId);
app.route("/", healthRoutes);
app.route("/", openApiRoutes(app));
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
