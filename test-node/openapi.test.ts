// The OpenAPI document, checked in Node: @seriousme/openapi-schema-validator reads its meta-schemas
// from disk and compiles them with Ajv (code generation), neither of which workerd allows.
// The HTTP app (src/http, without the Durable Object class or the Cron entry) loads in Node as it is.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { OPERATION_ERRORS, REQUEST_ERRORS } from "../src/base/error-codes";
import { app } from "../src/http/app";
import { SCHEMAS } from "../src/http/openapi/components";
import { buildOpenApiDocument } from "../src/http/routes/openapi";
import { Timestamp, TIMESTAMP_PATTERN } from "../src/schemas/common";
import { SearchRequest } from "../src/schemas/search";

const root = fileURLToPath(new URL("..", import.meta.url));
const doc = (await buildOpenApiDocument(app)) as any;
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
/** Served beside the API and described too: the document itself, its reference page, the root's links. */
const PAGES = ["/openapi.json", "/docs", "/"];

function operations(): { method: string; path: string; op: any }[] {
  return Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}

/** Every (status, code) the document lists anywhere, as "status CODE". */
function documentedErrors(): Set<string> {
  const found = new Set<string>();
  for (const { op } of operations()) {
    for (const [status, response] of Object.entries(op.responses) as [string, any][]) {
      const codes = response.content?.["application/json"]?.schema?.allOf?.[1]?.properties?.error?.properties?.code?.enum ?? [];
      for (const code of codes) found.add(`${status} ${code}`);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every (status, code) the service's source constructs, as "status CODE" -> files. */
function constructedErrors(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (key: string, file: string) => found.set(key, [...(found.get(key) ?? []), file.slice(root.length)]);
  // The local stand-ins (src/local) answer no client; docs.ts's asset route answers the generic NOT_FOUND.
  for (const file of sourceFiles(join(root, "src")).filter((f) => !f.includes("/src/local/"))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/new ApiError\(\s*(\d{3}),\s*"([A-Z_]+)"/g)) add(`${m[1]} ${m[2]}`, file);
    for (const m of text.matchAll(/Errors\.notFound\(\s*"([A-Z_]+)"/g)) add(`404 ${m[1]}`, file);
  }
  return found;
}

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("has no $ref that points nowhere", () => {
    const broken: string[] = [];
    const resolve = (pointer: string) =>
      pointer
        .slice(2)
        .split("/")
        .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), doc);
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) walk(node[i], `${at}/${i}`);
      } else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "$ref" && (typeof v !== "string" || !v.startsWith("#/") || resolve(v) === undefined))
            broken.push(`${at}: ${String(v)}`);
          else walk(v, `${at}/${k}`);
        }
      }
    };
    walk(doc, "#");
    expect(broken).toEqual([]);
  });

  it("gives every operation an id, a 2xx answer with its schema, and X-Request-Id on every answer", () => {
    const ids = new Set<string>();
    for (const { method, path, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toBeTruthy();
      expect(ids.has(op.operationId), `${where}: duplicate operationId`).toBe(false);
      ids.add(op.operationId);
      const ok = Object.keys(op.responses).filter((s) => s.startsWith("2"));
      expect(ok, where).toHaveLength(1);
      const content = op.responses[ok[0]!].content;
      if (PAGES.includes(path)) expect(Object.values(content).map((media: any) => typeof media.schema)).toContain("object");
      else if (ok[0] !== "204") expect(content?.["application/json"]?.schema?.$ref, where).toMatch(/^#\/components\/schemas\//);
      for (const [status, response] of Object.entries(op.responses) as [string, any][]) {
        expect(response.headers?.["X-Request-Id"], `${where} ${status}`).toBeDefined();
        if (status === "429" || status === "503") expect(response.headers?.["Retry-After"], `${where} ${status}`).toBeDefined();
      }
      const params = (op.parameters ?? []).map((p: any) => p.name ?? p.$ref);
      for (const name of path.match(/\{[^}]+\}/g) ?? []) expect(params, where).toContain(name.slice(1, -1));
    }
  });

  it("lists every error code the source constructs, under its status, and no code the source never answers", () => {
    const constructed = constructedErrors();
    const documented = documentedErrors();
    expect(constructed.size).toBeGreaterThan(15); // the scan found the error sites
    // NOT_FOUND is the answer for a path no route serves: no operation's.
    const missing = [...constructed]
      .filter(([key]) => key !== "404 NOT_FOUND" && !documented.has(key))
      .map(([key, files]) => `${key} (${files.join(", ")})`);
    expect(missing).toEqual([]);
    const unknown = [...documented].filter((key) => !constructed.has(key));
    expect(unknown).toEqual([]);
    // The catalogue holds exactly the codes answered, each under its status.
    const catalogue = Object.entries(REQUEST_ERRORS).filter(([code]) => code !== "NOT_FOUND");
    expect(new Set([...documented].map((k) => k.split(" ")[1]))).toEqual(new Set(catalogue.map(([code]) => code)));
    expect([...documented].filter((k) => !catalogue.some(([code, { status }]) => k === `${status} ${code}`))).toEqual([]);
  });

  it("has request examples the validating schemas accept", () => {
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const media = op.requestBody?.content?.["application/json"];
      if (!media) continue;
      expect(media.example, `${method} ${path}: no example`).toBeDefined();
      const name = media.schema.$ref.split("/").pop() as keyof typeof SCHEMAS;
      const parsed = SCHEMAS[name][0].safeParse(media.example);
      expect(parsed.success ? [] : parsed.error.issues, `${method} ${path}`).toEqual([]);
      checked += 1;
    }
    expect(checked).toBe(7);
  });

  it("documents the sync operation's headers and codes", () => {
    const sync = doc.paths["/v1/connectors/pipeline/sync"].post;
    const codes = (status: string) =>
      sync.responses[status].content["application/json"].schema.allOf[1].properties.error.properties.code.enum;
    expect(codes("400")).toEqual(expect.arrayContaining(["INVALID_JSON", "JSON_TOO_DEEP", "VALIDATION_ERROR", "BATCH_SIZE_EXCEEDED"]));
    expect(codes("409")).toEqual(expect.arrayContaining(["STALE_SYNC", "RUN_COMPLETED", "IDEMPOTENCY_KEY_IN_PROGRESS"]));
    expect(Object.keys(sync.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "415",
      "422",
      "429",
      "500",
      "503",
    ]);
    expect(sync.parameters).toEqual([
      { $ref: "#/components/parameters/IdempotencyKey" },
      { $ref: "#/components/parameters/ContentEncoding" },
    ]);
    expect(doc.components.parameters.IdempotencyKey).toMatchObject({ name: "Idempotency-Key", in: "header" });
    expect(sync.responses["200"].headers["Idempotent-Replayed"]).toBeDefined();
    expect(sync.responses["409"].headers["Retry-After"].description).toContain("IDEMPOTENCY_KEY_IN_PROGRESS");
  });

  it("has a servers entry and describes the pages served beside the API", () => {
    expect(doc.servers).toEqual([{ url: "/", description: expect.any(String) }]);
    for (const path of PAGES) expect(doc.paths[path]?.get?.responses?.["200"], path).toBeDefined();
  });
});

describe("the document refuses what the server refuses, and accepts what it accepts", () => {
  const schemas = doc.components.schemas;

  it("spells a timestamp's rules as its pattern (fraction digits, the range's first and last days)", () => {
    const pattern = new RegExp(TIMESTAMP_PATTERN, "u");
    const spellings = [
      "2026-01-15T10:00:00Z",
      "2026-01-15T10:00:00.1Z",
      "2026-01-15T10:00:00.123456789Z",
      "2026-01-15T10:00:00.1234567891Z",
      "2026-01-15T10:00:00+05:30",
      "2026-01-15T10:00:00",
      "2026-01-15T10:00Z",
      "2026-02-29T00:00:00Z",
      "2024-02-29T00:00:00Z",
      "0000-02-29T00:00:00Z",
      "0000-01-01T00:00:00Z",
      "0000-01-01T00:00:00+00:00",
      "0000-01-01T00:00:00-01:00",
      "0000-01-01T00:00:00+01:00",
      "0000-01-01T23:59:59+00:01",
      "0000-01-02T00:00:00+01:00",
      "9999-12-31T23:59:59.999999999Z",
      "9999-12-31T23:00:00+02:00",
      "9999-12-31T00:00:00-00:01",
      "9999-12-31T23:00:00-02:00",
      "9999-12-30T23:00:00-02:00",
    ];
    const disagree = spellings.filter((s) => pattern.test(s) !== Timestamp.safeParse(s).success);
    expect(disagree).toEqual([]);
    expect(schemas.SyncRequest.properties.sync_timestamp.pattern).toBe(TIMESTAMP_PATTERN);
    const runPath = doc.paths["/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}"].get.parameters;
    expect(runPath.find((p: any) => p.name === "sync_timestamp").schema.pattern).toBe(TIMESTAMP_PATTERN);
  });

  it("says final and namespaces belong to a full_refresh's final request, and a search takes query or vector", () => {
    const [final, namespaces] = schemas.SyncRequest.allOf;
    expect(final.if).toEqual({ required: ["final"] });
    expect(final.then.properties.sync_mode).toEqual({ const: "full_refresh" });
    expect(namespaces.if).toEqual({ required: ["namespaces"] });
    expect(namespaces.then).toMatchObject({ required: ["final"], properties: { final: { const: true } } });
    expect(schemas.SearchRequest.oneOf).toEqual([{ required: ["query"] }, { required: ["vector"] }]);
    for (const body of [{}, { query: "x", vector: [1] }]) expect(SearchRequest.safeParse(body).success).toBe(false);
    const operators = Object.keys(schemas.SearchRequest.properties.filter.additionalProperties.anyOf[1].properties);
    expect(operators).toEqual(["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin"]);
  });

  it("takes any value as an operation (one that is not valid fails alone) and lists the operations' error codes", () => {
    const items = schemas.SyncRequest.properties.operations.items;
    expect(items.anyOf.slice(0, 2)).toEqual([
      { $ref: "#/components/schemas/UpsertOperation" },
      { $ref: "#/components/schemas/DeleteOperation" },
    ]);
    expect(items.anyOf[2].not).toEqual({ anyOf: items.anyOf.slice(0, 2) });
    // The codes the operation checks (src/sync) and the vector writes (src/vectors) construct.
    const constructed = new Set<string>();
    for (const file of ["src/sync/operations.ts", "src/vectors/vector-sync.ts"])
      for (const m of readFileSync(join(root, file), "utf8").matchAll(/"([A-Z]+(?:_[A-Z]+)+)"/g)) constructed.add(m[1]!);
    const requestCodes = new Set(Object.keys(REQUEST_ERRORS));
    expect(new Set([...constructed].filter((c) => !requestCodes.has(c)))).toEqual(new Set(Object.keys(OPERATION_ERRORS)));
    expect(schemas.SyncResponse.properties.errors.items.properties.code.enum).toEqual(Object.keys(OPERATION_ERRORS));
  });

  it("names the embedding models the deployment's index takes", async () => {
    const models = async (o: object) =>
      ((await buildOpenApiDocument(app, o)) as any).components.schemas.CreateVectorStoreRequest.properties.embedding_model.enum;
    expect(await models({ embeddingDimensions: 768 })).toEqual(["@cf/baai/bge-base-en-v1.5"]);
    expect(await models({ embeddingDimensions: 1024 })).toEqual(["@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-m3"]);
    expect(await models({})).toHaveLength(4);
  });

  it("says 401 answers carry WWW-Authenticate", () => {
    const sync = doc.paths["/v1/connectors/pipeline/sync"].post;
    expect(sync.responses["401"].headers["WWW-Authenticate"]).toEqual({ $ref: "#/components/headers/WWW-Authenticate" });
  });
});
