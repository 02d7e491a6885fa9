import type { Context } from "hono";
import { randomToken } from "./crypto";
import type { CodeOfStatus, ErrorCode, REQUEST_ERRORS, StatusOf } from "./error-codes";

export type { ErrorCode, ErrorType } from "./error-codes";

/**
 * A failure the client can act on: thrown by handlers and middleware, rendered by onError. Its code
 * is one of the catalogue's (REQUEST_ERRORS), and its status and type must be that code's.
 */
export class ApiError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly status: StatusOf<C>,
    readonly code: C,
    message: string,
    readonly type: (typeof REQUEST_ERRORS)[C]["type"],
    readonly details: Record<string, unknown> = {},
    readonly systemMessage: string = message,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * HTTP requires a 401 to name the schemes that would be accepted (RFC 9110, section 11.6.1): an API
 * key in the X-API-Key header or as a bearer token; on admin routes, the admin bearer token only.
 */
export const API_KEY_CHALLENGE = { "WWW-Authenticate": 'Bearer realm="unified-sync", X-API-Key realm="unified-sync"' };
export const ADMIN_CHALLENGE = { "WWW-Authenticate": 'Bearer realm="unified-sync admin"' };

/** Longest summary of the fields in a message; the details keep every field. */
const MAX_SUMMARY_CHARS = 300;

/** "sync_mode must be 'incremental' or 'full_refresh'; organization_id is required". */
export function describeFields(fields: Record<string, string[]>): string {
  const text = Object.entries(fields)
    .map(([field, reasons]) => `${field} ${reasons.join(" and ")}`)
    .join("; ");
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS - 1)}…` : text;
}

export const Errors = {
  authenticationRequired: () =>
    new ApiError(
      401,
      "AUTHENTICATION_REQUIRED",
      "Authentication required. Please provide a valid API key.",
      "authentication_error",
      {},
      "Missing X-API-Key header or Bearer authorization",
      API_KEY_CHALLENGE,
    ),
  invalidApiKey: () =>
    new ApiError(
      401,
      "INVALID_API_KEY",
      "The API key provided is invalid or has been revoked.",
      "authentication_error",
      {},
      "API key not found or revoked",
      API_KEY_CHALLENGE,
    ),
  invalidAdminToken: () =>
    new ApiError(
      401,
      "AUTHENTICATION_REQUIRED",
      "Admin authentication required.",
      "authentication_error",
      {},
      "Missing or invalid admin bearer token",
      ADMIN_CHALLENGE,
    ),
  forbidden: (message: string) => new ApiError(403, "INSUFFICIENT_PERMISSIONS", message, "authorization_error"),
  storeNotFound: (id: string) =>
    new ApiError(404, "VECTOR_STORE_NOT_FOUND", `Vector store '${id}' was not found.`, "not_found_error", { vector_store_id: id }),
  notFound: (code: CodeOfStatus<404>, message: string, details: Record<string, unknown> = {}) =>
    new ApiError(404, code, message, "not_found_error", details),
  validation: (details: Record<string, string[]>) =>
    new ApiError(400, "VALIDATION_ERROR", `Invalid request: ${describeFields(details)}.`, "invalid_request_error", {
      fields: details,
    }),
} as const;

export function newRequestId(): string {
  return `req_${randomToken(12)}`;
}

/** Renders the contract's error envelope. Every non-2xx answer of the service goes through here. */
export function errorResponse(c: Context, err: ApiError): Response {
  const traceId = c.get("requestId") ?? newRequestId();
  const body = {
    success: false,
    error: {
      code: err.code,
      message: err.message,
      system_message: err.systemMessage,
      type: err.type,
      status: err.status,
      trace_id: traceId,
      timestamp: new Date().toISOString(),
      details: err.details,
    },
  };
  return c.json(body, err.status, { "X-Request-Id": traceId, ...err.headers });
}
