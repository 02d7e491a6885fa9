/**
 * The typed client of the unified sync endpoint: openapi-fetch over the types that
 * `npm run client:generate` derives from GET /openapi.json (./openapi.d.ts). Every path, method,
 * parameter, request body and answer (success and error envelope) is typed from the document.
 *
 *   import { createSyncClient } from "unified-sync-endpoint/client";
 *   const client = createSyncClient({ baseUrl: "http://127.0.0.1:8787", apiKey: process.env.UNIFIED_SYNC_API_KEY });
 *   const { data, error, response } = await client.POST("/v1/connectors/pipeline/sync", {
 *     body: { organization_id: "org_abc123", vector_store_id: "vs_demo", sync_mode: "incremental",
 *             sync_timestamp: new Date().toISOString(), operations: [] },
 *     params: { header: { "Idempotency-Key": "my-key-1" } },
 *   });
 *
 * No retries here: the push CLI (cli/) adds its own policy around these calls.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./openapi";

export type { components, operations, paths };
export type { Middleware };

type SyncPost = paths["/v1/connectors/pipeline/sync"]["post"];
/** The body of POST /v1/connectors/pipeline/sync. */
export type SyncRequest = SyncPost["requestBody"]["content"]["application/json"];
/** Its 200 answer. */
export type SyncResponse = SyncPost["responses"][200]["content"]["application/json"];
/** The error envelope every non-2xx answer carries. */
export type ErrorEnvelope = {
  success: false;
  error: { code: string; message: string; type: string; status: number; trace_id: string; details?: unknown } & Record<string, unknown>;
};

export type SyncClient = Client<paths>;

export interface SyncClientOptions {
  /** e.g. http://127.0.0.1:8787 or https://sync.example.com (no trailing path needed). */
  baseUrl: string;
  /** Sent as X-API-Key on every request. Admin routes want `headers: { Authorization: "Bearer ..." }` instead. */
  apiKey?: string;
  /** Extra headers on every request (e.g. User-Agent). */
  headers?: Record<string, string>;
  /** A fetch of your own (tests, proxies); defaults to globalThis.fetch. */
  fetch?: (input: Request) => Promise<Response>;
}

export function createSyncClient(options: SyncClientOptions): SyncClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) headers["X-API-Key"] = options.apiKey;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** The error code of an answer's envelope, or null when the body is not the envelope. */
export function errorCode(error: unknown): string | null {
  const code = (error as { error?: { code?: unknown } } | null | undefined)?.error?.code;
  return typeof code === "string" ? code : null;
}
