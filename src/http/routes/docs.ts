import { swaggerUI } from "@hono/swagger-ui";
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { ApiError } from "../../base/errors";
import { ref } from "../openapi/components";
import { describeOperation } from "../openapi/describe";

// `/docs`: Swagger UI over /openapi.json, fully offline. Its script and stylesheet are Workers
// Static Assets (wrangler.toml [assets], copied from swagger-ui-dist by scripts/docs-assets.mjs)
// under /docs/swagger-ui-dist/: Cloudflare serves them before the Worker runs, so the ~1.9 MB of
// Swagger UI never enters the Worker bundle. The page loads nothing from any other origin, and its
// Content-Security-Policy makes the browser refuse to.

export const DOCS_ASSETS_PATH = "/docs/swagger-ui-dist";

/** Same origin only: Swagger UI's inline start-up script and React's inline styles are the exceptions. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const docsRoutes = new Hono<AppEnv>();

const swaggerPage = swaggerUI({
  url: "/openapi.json",
  // @hono/swagger-ui loads `${baseUrl}/swagger-ui-dist/swagger-ui-bundle.js` and `.../swagger-ui.css`.
  baseUrl: DOCS_ASSETS_PATH.slice(0, -"/swagger-ui-dist".length),
  title: "Unified sync endpoint: API reference",
  deepLinking: true,
  displayRequestDuration: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  // Never ask validator.swagger.io about the document.
  validatorUrl: "none",
});

docsRoutes.get(
  "/docs",
  describeOperation({
    operationId: "docs",
    tag: "Service",
    summary: "The API reference (Swagger UI over /openapi.json)",
    ok: { status: 200, description: "An HTML page.", content: { "text/html": { schema: { type: "string" } } } },
    errors: [],
  }),
  async (c, next) => {
    await next();
    c.res.headers.set("Content-Security-Policy", DOCS_CSP);
  },
  swaggerPage,
);
docsRoutes.get("/docs/", (c) => c.redirect("/docs", 301));

// Cloudflare (and `wrangler dev`) answer these paths from the assets before the Worker runs; this
// route serves them when the Worker is called directly (the vitest pool calls exports.default.fetch).
docsRoutes.get(`${DOCS_ASSETS_PATH}/*`, async (c) => {
  const res = c.env.ASSETS ? await c.env.ASSETS.fetch(c.req.raw) : null;
  if (res && res.status !== 404) return res;
  throw new ApiError(
    404,
    "NOT_FOUND",
    `No asset at ${new URL(c.req.url).pathname}.`,
    "not_found_error",
    {},
    "Swagger UI's files are missing from assets/: run `node scripts/docs-assets.mjs` (npm run dev/test/build/deploy do)",
  );
});

const ROOT_LINKS = { docs: "/docs", openapi: "/openapi.json", health: "/health" };
const ROOT_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unified sync endpoint for pipeline data</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style></head>
<body>
<h1>Unified sync endpoint for pipeline data</h1>
<p>Data pipelines push batches of records to <code>POST /v1/connectors/pipeline/sync</code>.</p>
<ul>
<li><a href="/docs">API reference</a> (interactive, try requests from the browser)</li>
<li><a href="/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/health">Health check</a></li>
</ul>
</body>
</html>
`;

/** `/`: links to the API reference; HTML for browsers, JSON for everyone else. */
const describeRoot = describeOperation({
  operationId: "root",
  tag: "Service",
  summary: "Links to /docs, /openapi.json and /health",
  description: "HTML when `Accept` names text/html (browsers), JSON otherwise.",
  ok: {
    status: 200,
    description: "The links.",
    content: { "application/json": { schema: ref("RootLinks") }, "text/html": { schema: { type: "string" } } },
  },
  errors: [],
});

docsRoutes.get("/", describeRoot, (c) => {
  const accept = c.req.header("Accept") ?? "";
  if (/\btext\/html\b/i.test(accept)) return c.html(ROOT_HTML);
  return c.json({ name: "unified-sync-endpoint", ...ROOT_LINKS });
});
