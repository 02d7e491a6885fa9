// The error catalogue: every code the service answers, with its HTTP status, the envelope's
// `type` and what it means. ApiError takes its code (and so its status and type) from here, the
// OpenAPI document reads its per-status code tables from here, and a code that is not here does
// not typecheck.
import { MAX_BODY_CONTAINERS, MAX_BODY_DEPTH } from "./json/json-text";
import { MAX_OPERATIONS } from "./json/sync-body";

/** The envelope's `type`, one per family of statuses. */
export const ERROR_TYPES = [
  "invalid_request_error",
  "authentication_error",
  "authorization_error",
  "not_found_error",
  "conflict_error",
  "rate_limit_error",
  "api_error",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

interface RequestErrorSpec {
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;
  type: ErrorType;
  description: string;
  /** The answer carries Retry-After. */
  retryAfter?: true;
}

/** Codes of a whole request's answer (the error envelope, `error.code`). */
export const REQUEST_ERRORS = {
  INVALID_JSON: { status: 400, type: "invalid_request_error", description: "the body is not valid JSON, or not valid UTF-8" },
  JSON_TOO_DEEP: {
    status: 400,
    type: "invalid_request_error",
    description: `the body nests deeper than ${MAX_BODY_DEPTH} levels (refused before parsing)`,
  },
  JSON_TOO_COMPLEX: {
    status: 400,
    type: "invalid_request_error",
    description: `the body holds more than ${MAX_BODY_CONTAINERS} arrays and objects (refused before parsing)`,
  },
  VALIDATION_ERROR: {
    status: 400,
    type: "invalid_request_error",
    description: "a field, query parameter or header is invalid; `details.fields` maps each path to its messages",
  },
  BATCH_SIZE_EXCEEDED: {
    status: 400,
    type: "invalid_request_error",
    description: `more than ${MAX_OPERATIONS} operations in one request`,
  },
  AUTHENTICATION_REQUIRED: {
    status: 401,
    type: "authentication_error",
    description: "no credentials, or (admin routes) not the admin token",
  },
  INVALID_API_KEY: { status: 401, type: "authentication_error", description: "the API key is unknown or revoked" },
  INSUFFICIENT_PERMISSIONS: {
    status: 403,
    type: "authorization_error",
    description: "the key belongs to another organization than the one given, or is not allowed this vector store",
  },
  VECTOR_STORE_NOT_FOUND: { status: 404, type: "not_found_error", description: "no such vector store in the key's organization" },
  SYNC_NOT_FOUND: { status: 404, type: "not_found_error", description: "no such sync visible to this key" },
  RUN_NOT_FOUND: { status: 404, type: "not_found_error", description: "no full_refresh run of the store has this sync_timestamp" },
  RECORD_NOT_FOUND: { status: 404, type: "not_found_error", description: "no live record with this namespace and id" },
  NAMESPACE_NOT_FOUND: {
    status: 404,
    type: "not_found_error",
    description: "the namespace holds no records (or is not a valid namespace)",
  },
  API_KEY_NOT_FOUND: { status: 404, type: "not_found_error", description: "no such API key" },
  STALE_SYNC: {
    status: 409,
    type: "conflict_error",
    description: "a newer full_refresh was already applied to these namespaces; nothing was changed",
  },
  RUN_COMPLETED: {
    status: 409,
    type: "conflict_error",
    description: "the full_refresh run with this sync_timestamp is completed; start a new run with a later sync_timestamp",
  },
  IDEMPOTENCY_KEY_IN_PROGRESS: {
    status: 409,
    type: "conflict_error",
    description:
      "a request with this Idempotency-Key and body is still running for another store of the organization (sent to the same store, it waits and replays); retry after Retry-After",
    retryAfter: true,
  },
  VECTOR_STORE_EXISTS: { status: 409, type: "conflict_error", description: "a vector store with this id exists" },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    type: "invalid_request_error",
    description:
      "the body is over MAX_BODY_BYTES (20 MiB by default; counted inflated for a compressed sync body), a sync's fields other than operations are over 1 MiB, or a search or admin body is over 256 KiB",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    type: "invalid_request_error",
    description:
      "Content-Type is not application/json, or Content-Encoding is not one the route accepts (sync: gzip or deflate; others: none)",
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    type: "invalid_request_error",
    description: "this Idempotency-Key was used with a different body",
  },
  RATE_LIMIT_EXCEEDED: {
    status: 429,
    type: "rate_limit_error",
    description: "too many requests of this kind for the organization; retry after Retry-After",
    retryAfter: true,
  },
  INTERNAL_ERROR: { status: 500, type: "api_error", description: "an unexpected failure; retry later, quoting the trace_id" },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    type: "api_error",
    description: "Workers AI or Vectorize failed and nothing was applied; retry the same request after Retry-After",
    retryAfter: true,
  },
  STORE_MOVING: {
    status: 503,
    type: "api_error",
    description:
      "the store's ledger is being copied to another shard (an admin move of a large store) and nothing was applied; retry after Retry-After",
    retryAfter: true,
  },
  MOVE_CONFLICT: {
    status: 409,
    type: "conflict_error",
    description: "the store is already on that ledger shard, or a move of it to another shard is unfinished",
  },
  /** No operation's: the answer for a path no route serves (the app's notFound) or a missing asset. */
  NOT_FOUND: { status: 404, type: "not_found_error", description: "no route serves this method and path" },
} as const satisfies Record<string, RequestErrorSpec>;

export type ErrorCode = keyof typeof REQUEST_ERRORS;
/** The HTTP status of a code. */
export type StatusOf<C extends ErrorCode> = (typeof REQUEST_ERRORS)[C]["status"];
/** The codes answered with one status, e.g. CodeOfStatus<404>. */
export type CodeOfStatus<S extends RequestErrorSpec["status"]> = {
  [C in ErrorCode]: StatusOf<C> extends S ? C : never;
}[ErrorCode];

/**
 * Codes of a sync answer's `errors[].code`: an operation that fails alone while the others apply
 * (checkOperations checks operations one by one; writeVectors embeds and writes them). They are
 * not answers of their own: the request is still a 200.
 */
export const OPERATION_ERRORS = {
  INVALID_OPERATION:
    "the operation is not a valid upsert or delete (not an object, unknown action, upsert without data, bad namespace or id, bad updated_at, metadata values that are not strings, finite numbers, booleans or string arrays, ...); `message` names the field and why",
  INVALID_VECTOR: "`vector` is not an array of finite float32 numbers with the store's number of dimensions",
  RECORD_TOO_LARGE: "the record (data, file, metadata and text) is over 256 KiB, or its text makes more chunks than one record may have",
  METADATA_TOO_LARGE: "the record's vector metadata is over what Vectorize stores per vector",
  REQUEST_CHUNK_BUDGET_EXCEEDED:
    "the request reached its budget of vectors; send this operation (and the ones after it) again in another request",
  EMBEDDING_FAILED: "Workers AI failed to embed the record; send it again",
  VECTOR_WRITE_FAILED:
    "Vectorize failed to write or delete the record's vectors (also a record a full_refresh failed to sweep, with index null); send it again",
} as const satisfies Record<string, string>;

export type OperationErrorCode = keyof typeof OPERATION_ERRORS;
