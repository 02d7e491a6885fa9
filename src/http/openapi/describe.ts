// How a route describes itself in the OpenAPI document, next to its handler: its summary,
// parameters, body, answer, and the error codes it may answer, which the document groups by the
// status the error catalogue gives each (with the catalogue's descriptions).
import type { MiddlewareHandler } from "hono";
import { type DescribeRouteOptions, describeRoute } from "hono-openapi";
import type { z } from "zod";
import { REQUEST_ERRORS } from "../../base/error-codes";
import { TIMESTAMP_PATTERN } from "../../schemas/common";
import { jsonSchema, ref, type SchemaName } from "./components";

/** The codes an operation documents: every request error but NOT_FOUND, which answers no operation's path. */
export type ErrorCode = Exclude<keyof typeof REQUEST_ERRORS, "NOT_FOUND">;

const STATUS_TEXT = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
  429: "Too many requests",
  500: "Internal error",
  503: "Service unavailable",
} as const;
type ErrorStatus = keyof typeof STATUS_TEXT;

/** Codes that several operations share. */
export const KEY_AUTH = ["AUTHENTICATION_REQUIRED", "INVALID_API_KEY"] as const satisfies readonly ErrorCode[];
export const ADMIN_AUTH = ["AUTHENTICATION_REQUIRED"] as const satisfies readonly ErrorCode[];
export const STORE_ACCESS = ["INSUFFICIENT_PERMISSIONS", "VECTOR_STORE_NOT_FOUND"] as const satisfies readonly ErrorCode[];
export const JSON_BODY = [
  "INVALID_JSON",
  "JSON_TOO_DEEP",
  "JSON_TOO_COMPLEX",
  "VALIDATION_ERROR",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
] as const satisfies readonly ErrorCode[];
export const QUERY = ["VALIDATION_ERROR"] as const satisfies readonly ErrorCode[];
export const INTERNAL = ["INTERNAL_ERROR"] as const satisfies readonly ErrorCode[];

export const json = (schema: object) => ({ content: { "application/json": { schema } } });
export const headerRef = (name: "X-Request-Id" | "Retry-After" | "Idempotent-Replayed" | "X-D1-Bookmark") => ({
  $ref: `#/components/headers/${name}`,
});

/** The error answers of an operation: one per status its codes have, each listing its codes (in the order given). */
function errorResponses(errors: readonly ErrorCode[]) {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of new Set(errors)) {
    const status = REQUEST_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const statuses = [...byStatus.keys()].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const codes = byStatus.get(status)!;
      const retry = codes.filter((c) => "retryAfter" in REQUEST_ERRORS[c]);
      const types = [...new Set(codes.map((c) => REQUEST_ERRORS[c].type))];
      const retryNote = retry.length === codes.length ? "" : ` (with ${retry.join(", ")})`;
      return [
        String(status),
        {
          description: `${STATUS_TEXT[status]}. \`error.code\` is one of:\n\n${codes.map((c) => `- \`${c}\`: ${REQUEST_ERRORS[c].description}`).join("\n")}`,
          headers: {
            "X-Request-Id": headerRef("X-Request-Id"),
            ...(status === 401 ? { "WWW-Authenticate": { $ref: "#/components/headers/WWW-Authenticate" } } : {}),
            ...(retry.length > 0
              ? {
                  "Retry-After": retryNote
                    ? { ...headerRef("Retry-After"), description: `Seconds to wait before retrying; sent${retryNote}.` }
                    : headerRef("Retry-After"),
                }
              : {}),
          },
          ...json({
            allOf: [
              ref("Error"),
              {
                type: "object",
                properties: {
                  error: {
                    type: "object",
                    properties: {
                      code: { type: "string", enum: [...codes] },
                      type: types.length === 1 ? { const: types[0] } : { enum: types },
                      status: { const: status },
                    },
                  },
                },
              },
            ],
          }),
        },
      ];
    }),
  );
}

export const API_KEY = [{ ApiKey: [] }, { ApiKeyBearer: [] }];
export const ADMIN = [{ AdminToken: [] }];

const PATH_PARAMS = {
  vector_store_id: "The vector store's id (`vs_...`).",
  sync_id: "The `sync_id` a sync answered (`sync_` + 24 hex).",
  sync_timestamp: "The run's sync_timestamp, ISO 8601, URL-encoded (`:` as `%3A`); any spelling of the same instant finds it.",
  namespace: "The namespace, URL-encoded.",
  record_id: "The record's id, URL-encoded (ids may hold `/`, spaces or any Unicode).",
  key_id: "The `key_id` the key was created with.",
} as const;
/** Examples that work as they are against `npm run dev` (its seeded store and the README's first sync). */
const PATH_EXAMPLES: Partial<Record<keyof typeof PATH_PARAMS, string>> = {
  vector_store_id: "vs_demo",
  sync_timestamp: "2026-01-15T10:00:00Z",
  namespace: "clickup_tasks",
  record_id: "task_123",
};
export const pathParam = (name: keyof typeof PATH_PARAMS) => ({
  name,
  in: "path",
  required: true,
  description: PATH_PARAMS[name],
  schema: name === "sync_timestamp" ? { type: "string", pattern: TIMESTAMP_PATTERN } : { type: "string" },
  ...(PATH_EXAMPLES[name] ? { example: PATH_EXAMPLES[name] } : {}),
});

const QUERY_DESCRIPTIONS: Record<string, string> = {
  vector_store_id: "Only this store's syncs.",
  limit: "Page size.",
  cursor: "The `next_cursor` of the previous page; absent: the first page.",
};
/** Query parameters from the zod schema the route parses them with. */
export function queryParams(schema: z.ZodObject) {
  const { properties = {}, required = [] } = jsonSchema(schema, "input") as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: "query",
    required: required.includes(name),
    description: QUERY_DESCRIPTIONS[name],
    schema: s,
  }));
}

export interface Operation {
  operationId: string;
  tag: "Sync" | "Vector stores" | "Admin" | "Service";
  summary: string;
  description?: string;
  security?: object[];
  parameters?: object[];
  body?: { schema: SchemaName; required: boolean; description?: string; example?: unknown };
  ok: {
    status: 200 | 201 | 204;
    description: string;
    schema?: SchemaName | "RootLinks";
    /** Instead of `schema`: the answer's content by media type. */
    content?: Record<string, object>;
    headers?: Record<string, object>;
  };
  /** Every code the operation may answer; the document lists them under their statuses (REQUEST_ERRORS). */
  errors: readonly ErrorCode[];
}

function operation(o: Operation) {
  return {
    operationId: o.operationId,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    security: o.security ?? [],
    ...(o.parameters ? { parameters: o.parameters } : {}),
    ...(o.body
      ? {
          requestBody: {
            required: o.body.required,
            ...(o.body.description ? { description: o.body.description } : {}),
            content: { "application/json": { schema: ref(o.body.schema), ...(o.body.example ? { example: o.body.example } : {}) } },
          },
        }
      : {}),
    responses: {
      [String(o.ok.status)]: {
        description: o.ok.description,
        headers: { "X-Request-Id": headerRef("X-Request-Id"), ...o.ok.headers },
        ...(o.ok.schema ? json(ref(o.ok.schema)) : {}),
        ...(o.ok.content ? { content: o.ok.content } : {}),
      },
      ...errorResponses(o.errors),
    },
  };
}

/**
 * Documentation-only middleware (hono-openapi's describeRoute): it passes every request on, and
 * carries the operation's OpenAPI description for the document that GET /openapi.json generates
 * from the app's routes.
 */
export function describeOperation(o: Operation): MiddlewareHandler {
  return describeRoute(operation(o) as DescribeRouteOptions);
}
