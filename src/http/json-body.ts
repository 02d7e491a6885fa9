import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { jsonShapeProblem, MAX_BODY_CONTAINERS, MAX_BODY_DEPTH, parseJsonExactly } from "./json-text";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds the limit of ${limit} bytes.`, "invalid_request_error", {
    max_bytes: limit,
  });
}

/** Reads the body's bytes, refusing more than `limit` whether or not Content-Length is given. */
async function readCapped(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  if (Number.isInteger(declared) && declared >= 0) {
    // The runtime frames the body by its Content-Length, so it cannot be longer than declared:
    // read it in one native call (several times faster than a JavaScript loop over chunks).
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return bytes;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
    total += value.byteLength;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** A body's text, decoded fatally: invalid UTF-8 is refused, never replaced with U+FFFD (which would merge distinct ids). */
function decodeStrictly(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidUtf8();
  }
}

export function invalidUtf8(): ApiError {
  return new ApiError(400, "INVALID_JSON", "Request body is not valid UTF-8.", "invalid_request_error", {
    parse_error: "invalid UTF-8 byte sequence",
  });
}

export function tooDeep(): ApiError {
  return new ApiError(400, "JSON_TOO_DEEP", `Request body nests deeper than ${MAX_BODY_DEPTH} levels.`, "invalid_request_error", {
    max_depth: MAX_BODY_DEPTH,
  });
}

export function tooComplex(): ApiError {
  return new ApiError(
    400,
    "JSON_TOO_COMPLEX",
    `Request body holds more than ${MAX_BODY_CONTAINERS} arrays and objects.`,
    "invalid_request_error",
    { max_containers: MAX_BODY_CONTAINERS },
  );
}

export function invalidJson(err: unknown, where?: string): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(400, "INVALID_JSON", "Request body is not valid JSON.", "invalid_request_error", {
    parse_error: where === undefined ? message : `${where}: ${message}`,
  });
}

/** The body's bytes, after the content type and size checks (415, 413). */
export async function readBodyBytes(c: Context<AppEnv>): Promise<Uint8Array> {
  const contentType = c.req.header("Content-Type") ?? "";
  if (!JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", "invalid_request_error", {
      content_type: contentType || null,
    });
  }
  const limit = Number(c.env.MAX_BODY_BYTES) || 20 * 1024 * 1024;
  return readCapped(c.req.raw, limit);
}

/** Parses a whole body: 400 for invalid UTF-8, nesting or container counts past the limits, or invalid JSON. */
export function parseBodyBytes(bytes: Uint8Array): unknown {
  const text = decodeStrictly(bytes);
  const problem = jsonShapeProblem(text, { depth: MAX_BODY_DEPTH, containers: MAX_BODY_CONTAINERS });
  if (problem === "depth") throw tooDeep();
  if (problem === "containers") throw tooComplex();
  try {
    return parseJsonExactly(text);
  } catch (err) {
    throw invalidJson(err);
  }
}

/**
 * Parses a JSON request body with the service's own errors: 415 for a non-JSON content type,
 * 413 over the size cap, 400 INVALID_JSON for a body that does not parse.
 */
export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  return parseBodyBytes(await readBodyBytes(c));
}
