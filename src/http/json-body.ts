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

/** Reads the body as text, refusing more than `limit` bytes even when Content-Length is absent or lies. */
async function readCapped(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    // Fatal: invalid UTF-8 is refused, never replaced with U+FFFD (which would merge distinct ids).
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "INVALID_JSON", "Request body is not valid UTF-8.", "invalid_request_error", {
      parse_error: "invalid UTF-8 byte sequence",
    });
  }
}

/**
 * Parses a JSON request body with the service's own errors: 415 for a non-JSON content type,
 * 413 over the size cap, 400 INVALID_JSON for a body that does not parse.
 */
export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const contentType = c.req.header("Content-Type") ?? "";
  if (!JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", "invalid_request_error", {
      content_type: contentType || null,
    });
  }
  const limit = Number(c.env.MAX_BODY_BYTES) || 20 * 1024 * 1024;
  const text = await readCapped(c.req.raw, limit);
  const problem = jsonShapeProblem(text, { depth: MAX_BODY_DEPTH, containers: MAX_BODY_CONTAINERS });
  if (problem === "depth") {
    throw new ApiError(400, "JSON_TOO_DEEP", `Request body nests deeper than ${MAX_BODY_DEPTH} levels.`, "invalid_request_error", {
      max_depth: MAX_BODY_DEPTH,
    });
  }
  if (problem === "containers") {
    throw new ApiError(
      400,
      "JSON_TOO_COMPLEX",
      `Request body holds more than ${MAX_BODY_CONTAINERS} arrays and objects.`,
      "invalid_request_error",
      { max_containers: MAX_BODY_CONTAINERS },
    );
  }
  try {
    return parseJsonExactly(text);
  } catch (err) {
    throw new ApiError(400, "INVALID_JSON", "Request body is not valid JSON.", "invalid_request_error", {
      parse_error: err instanceof Error ? err.message : String(err),
    });
  }
}
