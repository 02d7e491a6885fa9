// The errors of reading a JSON body: the body route and the sync engine (which parses a body's
// operations one batch at a time) refuse bad JSON with the same answers.
import { ApiError } from "../errors";
import { MAX_BODY_CONTAINERS, MAX_BODY_DEPTH } from "./json-text";

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
