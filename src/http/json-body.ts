import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../base/errors";
import { jsonShapeProblem, MAX_BODY_CONTAINERS, MAX_BODY_DEPTH, parseJsonExactly } from "../base/json/json-text";
import { invalidJson, invalidUtf8, tooComplex, tooDeep } from "../base/json/json-errors";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds the limit of ${limit} bytes.`, "invalid_request_error", {
    max_bytes: limit,
  });
}

/** Chunks of a stream joined, refusing more than `limit` bytes in all as soon as they arrive. */
async function readStreamCapped(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  failed: (err: unknown) => ApiError,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch (err) {
      throw failed(err);
    }
    const { done, value } = read;
    if (done) break;
    if (total + value.byteLength > limit) {
      await reader.cancel().catch(() => {});
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
  return readStreamCapped(req.body, limit, (err) => {
    throw err;
  });
}

/**
 * A compressed body inflated while it is read, `limit` applying to the inflated bytes: a small
 * body that inflates to gigabytes is refused at the limit, never inflated whole. The compressed
 * bytes are capped at `limit` too.
 */
async function readInflated(req: Request, format: "gzip" | "deflate", limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  let compressed = 0;
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      compressed += chunk.byteLength;
      if (compressed > limit) controller.error(tooLarge(limit));
      else controller.enqueue(chunk);
    },
  });
  const inflated = req.body.pipeThrough(counted).pipeThrough(new DecompressionStream(format));
  return readStreamCapped(inflated, limit, (err) =>
    err instanceof ApiError
      ? err
      : new ApiError(400, "INVALID_JSON", `Request body is not valid ${format} data.`, "invalid_request_error", {
          parse_error: `${format}: ${err instanceof Error ? err.message : String(err)}`,
        }),
  );
}

/** A body's text, decoded fatally: invalid UTF-8 is refused, never replaced with U+FFFD (which would merge distinct ids). */
function decodeStrictly(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidUtf8();
  }
}

/**
 * Largest JSON body of the routes other than sync (search, admin): their fields take tens of KB
 * at most, and a body is parsed whole, in the Worker.
 */
export const MAX_JSON_BODY_BYTES = 256 * 1024;

/**
 * The body's bytes, after the content type, encoding and size checks (415, 413). With
 * `compressed`, a gzip or deflate body (Content-Encoding) is inflated, the limit counting the
 * inflated bytes; any other encoding, and any encoding at all without `compressed`, is 415.
 */
export async function readBodyBytes(c: Context<AppEnv>, options: { compressed?: boolean; maxBytes?: number } = {}): Promise<Uint8Array> {
  const contentType = c.req.header("Content-Type") ?? "";
  if (!JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", "invalid_request_error", {
      content_type: contentType || null,
    });
  }
  const configured = Number(c.env.MAX_BODY_BYTES) || 20 * 1024 * 1024;
  const limit = Math.min(configured, options.maxBytes ?? configured);
  const encoding = (c.req.header("Content-Encoding") ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return readCapped(c.req.raw, limit);
  if (options.compressed && (encoding === "gzip" || encoding === "deflate")) return readInflated(c.req.raw, encoding, limit);
  const accepted = options.compressed ? "gzip, deflate or identity" : "identity (or absent) on this route";
  throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", `Content-Encoding must be ${accepted}.`, "invalid_request_error", {
    content_encoding: c.req.header("Content-Encoding") ?? null,
  });
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
  return parseBodyBytes(await readBodyBytes(c, { maxBytes: MAX_JSON_BODY_BYTES }));
}
