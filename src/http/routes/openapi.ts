import { Hono } from "hono";
import { type GenerateSpecOptions, generateSpecs } from "hono-openapi";
import type { AppEnv } from "../../env";
import { type DocumentOptions, documentation } from "../openapi/components";
import { describeOperation } from "../openapi/describe";

// GET /openapi.json: the OpenAPI 3.1 document of the routes the app serves. Each route describes
// itself next to its handler (describeOperation); hono-openapi's generateSpecs collects those
// descriptions from the app's routes, so a route without one is missing from the document
// (the OpenAPI tests fail on it), and the components come from the zod schemas.

/** The tags in the document's order; the paths are listed tag by tag, each in the app's order. */
const TAG_ORDER = ["Sync", "Vector stores", "Admin", "Service"];

/** The app the document describes: only its routes are read (Hono's `routes`). */
type DescribedApp = Hono<AppEnv>;

export async function buildOpenApiDocument(api: DescribedApp, options: DocumentOptions = {}) {
  const doc = await generateSpecs(api, {
    // Plain JSON in the OpenAPI shape; the literal types are widened, so typed here.
    documentation: documentation(options) as GenerateSpecOptions["documentation"],
    // "/openapi.json" is an operation, not a static file.
    excludeStaticFile: false,
  });
  const tagOf = (item: object) => (Object.values(item)[0] as { tags?: string[] } | undefined)?.tags?.[0] ?? "";
  const paths = Object.entries(doc.paths).sort(([, a], [, b]) => TAG_ORDER.indexOf(tagOf(a)) - TAG_ORDER.indexOf(tagOf(b)));
  return { ...doc, paths: Object.fromEntries(paths) };
}

/** The route serving the document of `api`, the app it is mounted in. */
export function openApiRoutes(api: DescribedApp) {
  const routes = new Hono<AppEnv>();
  routes.get(
    "/openapi.json",
    describeOperation({
      operationId: "openapi",
      tag: "Service",
      summary: "This OpenAPI 3.1 document",
      ok: { status: 200, description: "The document.", content: { "application/json": { schema: { type: "object" } } } },
      errors: [],
    }),
    async (c) => {
      const dimensions = Number(c.env?.EMBEDDING_DIMENSIONS);
      return c.json(await buildOpenApiDocument(api, Number.isInteger(dimensions) ? { embeddingDimensions: dimensions } : {}));
    },
  );
  return routes;
}
