import { Hono, type Context } from "hono";
import type { AppEnv } from "../../env";
import { ApiError, Errors } from "../../base/errors";
import { checkStoreAccess } from "../../auth/store-access";
import { parseBodyBytes, readBodyBytes } from "../json-body";
import { invalidJson, tooComplex, tooDeep } from "../../base/json/json-errors";
import { parseJsonExactly } from "../../base/json/json-text";
import { MAX_ENVELOPE_BYTES, splitSyncBody } from "../../base/json/sync-body";
import { countOperations } from "../../sync/operations";
import { apiKeyAuthConcurrent, apiKeyAuthDeferred } from "../middleware/api-key-auth";
import { readableStore, readStoreLedger } from "../read-store";
import { primaryStore } from "../../db/store-cache";
import { BOOKMARK_HEADER, formatBookmark, parseBookmark, readSession } from "../../db/sessions";
import { syncRateLimit } from "../middleware/rate-limit";
import { fieldErrors, overlongArrays, Timestamp } from "../../schemas/common";
import { SyncListQuery } from "../../schemas/lists";
import { decodeCursor, encodeCursor, listSyncs } from "../../db/listings";
import { getRunView } from "../../db/runs";
import { tryNormalizeTimestamp } from "../../base/timestamps";
import { MAX_NAMESPACES_PER_REQUEST, MAX_OPERATIONS, SyncRequestEnvelope, storedSyncResponse } from "../../schemas/sync";
import { findSyncResult } from "../../db/sync-lookup";
import { indexOf, ledgerOf } from "../../db/placement";
import { shardsOfOrganization } from "../../db/vector-stores";
import { isQueryable } from "../../vectors/queryable";
import { canonicalJson } from "../../base/json/canonical-json";
import { span } from "../../base/profile";
import type { OperationSource } from "../../model/operations";
import { syncThroughStoreObject } from "../../store/store-client";
import {
  API_KEY,
  describeOperation,
  headerRef,
  INTERNAL,
  JSON_BODY,
  KEY_AUTH,
  pathParam,
  QUERY,
  queryParams,
  STORE_ACCESS,
} from "../openapi/describe";

export const syncRoutes = new Hono<AppEnv>();

function batchTooLarge(count: number): ApiError {
  return new ApiError(
    400,
    "BATCH_SIZE_EXCEEDED",
    `A sync request may carry at most ${MAX_OPERATIONS} operations; this one has ${count}.`,
    "invalid_request_error",
    { max_operations: MAX_OPERATIONS, operations: count },
  );
}

/**
 * Largest sync body parsed whole, when the scan declines to cut it (it is not a JSON object with
 * an operations array, or not JSON): a valid sync body is always cut, and parsing 20 MiB of
 * client JSON whole takes more heap than an isolate has.
 */
const MAX_WHOLE_PARSE_BYTES = 1024 * 1024;

/**
 * The body's envelope (parsed, its operations replaced by []) and its operations, still bytes
 * (see splitSyncBody); or, when the scan declines, the body parsed whole.
 */
function readSyncBody(bytes: Uint8Array): { envelope: unknown; operations: OperationSource | null } {
  const split = splitSyncBody(bytes, MAX_OPERATIONS);
  if (split.kind === "too_deep") throw tooDeep();
  if (split.kind === "too_complex") throw tooComplex();
  if (split.kind === "too_many") throw batchTooLarge(split.count);
  if (split.kind === "envelope_too_large") {
    throw new ApiError(
      413,
      "PAYLOAD_TOO_LARGE",
      `A sync request's fields other than operations take ${split.bytes} bytes; the limit is ${MAX_ENVELOPE_BYTES}.`,
      "invalid_request_error",
      { max_bytes: MAX_ENVELOPE_BYTES },
    );
  }
  if (split.kind === "whole") {
    if (bytes.byteLength > MAX_WHOLE_PARSE_BYTES) {
      throw new ApiError(400, "INVALID_JSON", "Request body is not valid JSON.", "invalid_request_error", {
        parse_error: `not a JSON object with an "operations" array (a body over ${MAX_WHOLE_PARSE_BYTES} bytes that is not is refused unparsed)`,
      });
    }
    const body = parseBodyBytes(bytes);
    const operations = (body as { operations?: unknown } | null)?.operations;
    return { envelope: body, operations: Array.isArray(operations) ? operations : null };
  }
  try {
    return { envelope: parseJsonExactly(split.envelope), operations: split.operations };
  } catch (err) {
    throw invalidJson(err);
  }
}

async function handleSync(c: Context<AppEnv>) {
  const bytes = await span("worker: body read", () => readBodyBytes(c, { compressed: true }));
  const { envelope, operations } = span("worker: body split, envelope", () => readSyncBody(bytes));
  const count = operations === null ? 0 : countOperations(operations);
  if (count > MAX_OPERATIONS) throw batchTooLarge(count);
  const overlong = overlongArrays(envelope, { namespaces: MAX_NAMESPACES_PER_REQUEST });
  if (overlong) throw Errors.validation(overlong);
  const parsed = SyncRequestEnvelope.safeParse(envelope);
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error, envelope));
  const request = parsed.data;

  // Checked here, from the key's record: the organization and a restricted key's stores. Whether
  // the key is revoked and the store exists is checked in the store's object, with its first D1
  // calls: the Worker makes none on the sync path (docs/measurements.md#latency).
  const key = c.get("apiKey");
  checkStoreAccess(key, request.vector_store_id, request.organization_id);
  const idempotencyKey = c.req.header("Idempotency-Key");
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
    throw Errors.validation({ "Idempotency-Key": ["must be 1-255 visible ASCII characters"] });
  }
  // Own keys only (a client's "__proto__" stays a key): the envelope as sent, without operations.
  const { operations: _operations, ...rest } = envelope as Record<string, unknown>;
  const idempotency =
    idempotencyKey === undefined ? null : { organizationId: key.organization_id, key: idempotencyKey, envelope: canonicalJson(rest) };
  const access = { storeId: request.vector_store_id, organizationId: key.organization_id, apiKeyId: key.key_id };
  const { response, replayed, bookmark } = await span("worker: store object call (whole sync)", () =>
    syncThroughStoreObject(
      c.env,
      access,
      {
        mode: request.sync_mode,
        syncTimestamp: request.sync_timestamp,
        // The bytes and ranges, or (a body the scan declined) the operations as parsed whole.
        operations: operations ?? request.operations,
        ...(request.final !== undefined ? { final: request.final } : {}),
        ...(request.namespaces !== undefined ? { namespaces: request.namespaces } : {}),
      },
      idempotency,
    ),
  );
  if (replayed) c.header("Idempotent-Replayed", "true");
  // Sent back on a read (status, search, records...), it makes that read see this sync's writes.
  if (bookmark) c.header(BOOKMARK_HEADER, formatBookmark(bookmark));
  return c.json(response, 200);
}

const SYNC_DESCRIPTION = `Applies a batch of at most ${MAX_OPERATIONS} operations to one vector store.

- **incremental**: the upserts and deletes given. An operation older than the stored record's version is stale: ignored and counted \`stale\`; an upsert whose content did not change is counted \`unchanged\`.
- **full_refresh**: the namespaces named become exactly what was sent: records not sent are deleted (the *sweep*). A refresh larger than one request is a **run**: parts with \`"final": false\` (nothing swept), then \`"final": true\` (sweeps every namespace the run named, plus \`namespaces\`). Send the final again while \`sweep.remaining > 0\`.

The envelope (every field but \`operations\`) is checked whole: a bad or unknown field is a 400 and nothing applies. Each operation is checked on its own: one that is not a valid upsert or delete (any JSON value is accepted in \`operations\`) or that fails downstream (embedding, index) is listed in \`errors\` with its \`code\` and counted \`failed\`; the others apply (\`partial_success\`; \`failed\` when none applied: still a 200). The answer is stored and served by \`GET /v1/connectors/pipeline/syncs/{sync_id}\`.

An \`Idempotency-Key\` makes retries safe: the same key and body answer the stored result (\`Idempotent-Replayed: true\`) without applying anything again.`;

const describeSync = (operationId: string, summary: string) =>
  describeOperation({
    operationId,
    tag: "Sync",
    summary,
    description: SYNC_DESCRIPTION,
    security: API_KEY,
    parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }, { $ref: "#/components/parameters/ContentEncoding" }],
    body: {
      schema: "SyncRequest",
      required: true,
      example: {
        organization_id: "org_abc123",
        vector_store_id: "vs_demo",
        sync_mode: "incremental",
        sync_timestamp: "2026-01-15T10:00:00Z",
        operations: [
          { action: "upsert", id: "task_123", namespace: "clickup_tasks", data: { name: "Implement new feature", status: "in_progress" } },
          { action: "delete", id: "task_99", namespace: "clickup_tasks" },
        ],
      },
    },
    ok: {
      status: 200,
      description: "The sync's result (also when some or all operations failed: see `status` and `errors`).",
      schema: "SyncResponse",
      headers: { "Idempotent-Replayed": headerRef("Idempotent-Replayed"), "X-D1-Bookmark": headerRef("X-D1-Bookmark") },
    },
    errors: [
      ...KEY_AUTH,
      "RATE_LIMIT_EXCEEDED",
      ...JSON_BODY,
      "BATCH_SIZE_EXCEEDED",
      ...STORE_ACCESS,
      "STALE_SYNC",
      "RUN_COMPLETED",
      "IDEMPOTENCY_KEY_IN_PROGRESS",
      "IDEMPOTENCY_KEY_REUSED",
      "UPSTREAM_UNAVAILABLE",
      "STORE_MOVING",
      ...INTERNAL,
    ],
  });

// The contract documents both paths for the same endpoint.
syncRoutes.post(
  "/v1/connectors/pipeline/sync",
  describeSync("sync", "Apply a batch of upserts and deletes (incremental) or refresh namespaces (full_refresh)"),
  apiKeyAuthDeferred,
  syncRateLimit,
  handleSync,
);
syncRoutes.post(
  "/v1/pipeline/sync",
  describeSync("syncAlias", "The same as POST /v1/connectors/pipeline/sync (the contract names both paths)"),
  apiKeyAuthDeferred,
  syncRateLimit,
  handleSync,
);

const describeListSyncs = describeOperation({
  operationId: "listSyncs",
  tag: "Sync",
  summary: "The key's syncs, newest first",
  security: API_KEY,
  parameters: [...queryParams(SyncListQuery), { $ref: "#/components/parameters/D1Bookmark" }],
  ok: { status: 200, description: "A page of syncs.", schema: "SyncList" },
  errors: [...QUERY, ...KEY_AUTH, ...STORE_ACCESS, ...INTERNAL],
});

syncRoutes.get("/v1/connectors/pipeline/syncs", describeListSyncs, apiKeyAuthConcurrent, async (c) => {
  const parsed = SyncListQuery.safeParse(c.req.query());
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error));
  const { vector_store_id: storeId, limit, cursor } = parsed.data;
  const key = c.get("apiKey");
  const after = cursor === undefined ? null : decodeCursor(cursor, 2);
  if (cursor !== undefined && after === null) throw Errors.validation({ cursor: ["must be a next_cursor returned by this endpoint"] });
  const bookmark = parseBookmark(c.req.header(BOOKMARK_HEADER));
  // The shards to read: the store's, or those of the organization's stores; from replicas first,
  // and from the primaries when those have nothing to list.
  const list = async (primary: boolean) => {
    const catalog = primary ? c.env.DB : readSession(c.env.DB);
    const store = storeId === undefined ? null : await readableStore(c, storeId);
    // At the primaries, the store's row too: a cached one may name the shard it left.
    const fresh = store && primary ? await primaryStore(c.env.DB, store.id) : store;
    const shards = fresh ? [fresh.ledger_shard] : await shardsOfOrganization(catalog, key.organization_id);
    const readers = shards.map((n) => {
      const db = ledgerOf(c.env, { ledger_shard: n });
      return primary ? db : readSession(db, bookmark?.shard === n ? bookmark.bookmark : null);
    });
    return listSyncs(
      readers,
      key.organization_id,
      { store: storeId ?? null, stores: key.vector_store_ids },
      after as [string, string] | null,
      limit,
    );
  };
  // A replica that fails, or refuses the client's bookmark, is not the client's problem: the
  // primaries answer instead, as they do for an empty page.
  let page = await list(false).catch(() => null);
  if (page === null || page.items.length === 0) page = await list(true);
  return c.json({ syncs: page.items, next_cursor: page.next ? encodeCursor(page.next) : null });
});

const describeGetRun = describeOperation({
  operationId: "getRun",
  tag: "Sync",
  summary: "A full_refresh run: its parts, summed results and state",
  security: API_KEY,
  parameters: [pathParam("vector_store_id"), pathParam("sync_timestamp"), { $ref: "#/components/parameters/D1Bookmark" }],
  ok: { status: 200, description: "The run.", schema: "Run" },
  errors: [...QUERY, ...KEY_AUTH, ...STORE_ACCESS, "RUN_NOT_FOUND", ...INTERNAL],
});

syncRoutes.get("/v1/connectors/pipeline/runs/:vector_store_id/:sync_timestamp", describeGetRun, apiKeyAuthConcurrent, async (c) => {
  // Any spelling of the same instant finds the run: it is stored under the normalised form.
  const raw = c.req.param("sync_timestamp");
  const syncTimestamp = Timestamp.safeParse(raw).success ? tryNormalizeTimestamp(raw) : null;
  if (syncTimestamp === null) {
    await readableStore(c, c.req.param("vector_store_id"));
    throw Errors.validation({ sync_timestamp: ["must be an ISO 8601 date-time with a time zone, URL-encoded"] });
  }
  const { store, value: run } = await readStoreLedger(
    c,
    c.req.param("vector_store_id"),
    (db, s) => getRunView(db, s.id, syncTimestamp, Date.now()),
    (r) => r === null,
  );
  if (!run) {
    throw Errors.notFound("RUN_NOT_FOUND", `No full_refresh run of '${store.id}' has sync_timestamp '${raw}'.`, {
      vector_store_id: store.id,
      sync_timestamp: raw,
    });
  }
  return c.json(run);
});

const describeGetSync = describeOperation({
  operationId: "getSync",
  tag: "Sync",
  summary: "A sync's stored result, with whether searches see it yet",
  security: API_KEY,
  parameters: [pathParam("sync_id"), { $ref: "#/components/parameters/D1Bookmark" }],
  ok: { status: 200, description: "The stored SyncResponse plus where it belongs and `queryable`.", schema: "SyncStatus" },
  errors: [...QUERY, ...KEY_AUTH, "SYNC_NOT_FOUND", ...INTERNAL],
});

syncRoutes.get("/v1/connectors/pipeline/syncs/:sync_id", describeGetSync, apiKeyAuthConcurrent, async (c) => {
  const syncId = c.req.param("sync_id");
  const key = c.get("apiKey");
  const row = await findSyncResult(c.env, key.organization_id, syncId, parseBookmark(c.req.header(BOOKMARK_HEADER)));
  // Another organization's sync is reported as missing, not forbidden: ids do not leak.
  if (
    !row ||
    row.organization_id !== key.organization_id ||
    (key.vector_store_ids && !key.vector_store_ids.includes(row.vector_store_id))
  ) {
    throw Errors.notFound("SYNC_NOT_FOUND", `Sync '${syncId}' was not found.`, { sync_id: syncId });
  }
  const { sync_id: _sameId, ...result } = storedSyncResponse(row.result);
  return c.json({
    queryable: await isQueryable(indexOf(c.env, row.store), row),
    sync_id: row.id,
    organization_id: row.organization_id,
    vector_store_id: row.vector_store_id,
    sync_mode: row.sync_mode,
    sync_timestamp: row.sync_timestamp,
    created_at: row.created_at,
    ...result,
  });
});
