/**
 * One JSON line to one sync operation, as the text that goes into the request body.
 *
 * The operation's JSON is the line's own text (or, for a raw record, the line's text as `data`):
 * it is never parsed and printed again, so a number is sent exactly as the source wrote it
 * (a 30-digit integer is not rounded on its way; the server then refuses it with its path).
 * The line is parsed only to check that it is JSON, to know its namespace and id, and to
 * measure the record as the server does (the UTF-8 bytes of data, file, metadata and text JSON).
 */
import { parseJsonExactly } from "../src/base/json/json-text";
import { isPlainObject } from "../src/schemas/common";
import { MAX_RECORD_BYTES } from "../src/schemas/sync";
import type { IdSource, Operation, Skipped } from "./operation";
import { memberText } from "./json-member";

export interface Mapping {
  /** Raw records: the namespace every record goes to, and the field holding its id. */
  namespace?: string;
  idField?: string;
  /** Raw records: a truthy value of this field makes the record a delete. */
  deleteField?: string;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * A field of an input record, read only when it is the record's own: `constructor`, `toString`
 * or `__proto__` named by --delete-field or --id-field must not find Object.prototype's members
 * (which made every record a delete). Every read of a record's field in the CLI goes through here.
 */
export function ownField(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** The server's measure of a record (checkOperations): data, file, metadata and text JSON. */
export function recordBytes(op: Record<string, unknown>): number {
  let bytes = 0;
  for (const field of ["data", "file", "metadata"] as const) {
    const value = ownField(op, field);
    if (value !== undefined && value !== null) bytes += utf8Bytes(JSON.stringify(value) ?? "");
  }
  const text = ownField(op, "text");
  if (typeof text === "string") bytes += utf8Bytes(text);
  return bytes;
}

/** Truthy for --delete-field: true, a non-zero number, or a string other than "", "0", "false". */
export function isDeleteMark(value: unknown): boolean {
  if (typeof value === "string") return value !== "" && value !== "0" && value.toLowerCase() !== "false";
  return Boolean(value);
}

const str = (v: unknown) => (typeof v === "string" ? v : null);

function tooLarge(line: number, namespace: string | null, id: string | null, bytes: number, parts: string): Skipped {
  return {
    kind: "skip",
    line,
    code: "RECORD_TOO_LARGE",
    namespace,
    id,
    message: `record is ${bytes} bytes (${parts}); the limit is ${MAX_RECORD_BYTES}`,
  };
}

/** An integer id as its decimal text: no sign on zero, no fraction, no exponent, no leading zero. */
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

const kindOf = (v: unknown) =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`;

/**
 * A raw record's id: a non-empty string as it is, or an integer as the decimal text the source
 * wrote (a safe integer: at most 2^53 - 1 in magnitude). Anything else would either merge
 * different source values into one record (1 and 1.0, 0 and -0) or has no obvious text (a
 * boolean, an object): the line is refused with the reason.
 */
export function rawId(
  record: Record<string, unknown>,
  text: string,
  field: string,
): { id: string; source: IdSource } | { code: "MISSING_ID" | "INVALID_ID"; message: string } {
  if (!Object.hasOwn(record, field)) return { code: "MISSING_ID", message: `field '${field}' is missing` };
  const value = record[field];
  if (typeof value === "string") {
    return value !== "" ? { id: value, source: "string" } : { code: "INVALID_ID", message: `field '${field}' is an empty string` };
  }
  if (typeof value === "number") {
    const literal = (memberText(text, field) ?? String(value)).slice(0, 40);
    if (literal === "-0") return { code: "INVALID_ID", message: `field '${field}' is -0: write 0 (ids are strings or integers)` };
    if (!INTEGER_TEXT.test(literal)) {
      return {
        code: "INVALID_ID",
        message: `field '${field}' is the number ${literal}: an id is a string or an integer written without fraction or exponent`,
      };
    }
    if (!Number.isSafeInteger(value) || String(value) !== literal) {
      return { code: "INVALID_ID", message: `field '${field}' is ${literal}, beyond 2^53 - 1: write it as a string` };
    }
    return { id: literal, source: "number" };
  }
  return { code: "INVALID_ID", message: `field '${field}' is ${kindOf(value)}: ids are strings or integers` };
}

export function toOperation(line: number, text: string, mapping: Mapping): Operation | Skipped {
  const trimmed = text.trim();
  let parsed: unknown;
  try {
    parsed = parseJsonExactly(trimmed);
  } catch (err) {
    return {
      kind: "skip",
      line,
      code: "INVALID_JSON",
      message: `not JSON: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
      namespace: null,
      id: null,
    };
  }
  if (!isPlainObject(parsed)) {
    return { kind: "skip", line, code: "INVALID_JSON", message: "the line is not a JSON object", namespace: null, id: null };
  }

  if (mapping.namespace === undefined) {
    // An operation as the sync request takes it.
    const namespace = str(ownField(parsed, "namespace"));
    const id = str(ownField(parsed, "id"));
    const action = str(ownField(parsed, "action"));
    if (action === "upsert") {
      const bytes = recordBytes(parsed);
      if (bytes > MAX_RECORD_BYTES) {
        return tooLarge(line, namespace, id, bytes, "data, file, metadata and text");
      }
    }
    return { kind: "op", line, json: trimmed, bytes: utf8Bytes(trimmed), action, namespace, id, value: parsed };
  }

  // A raw record: the whole object is the data.
  const namespace = mapping.namespace;
  const idField = mapping.idField ?? "id";
  const found = rawId(parsed, trimmed, idField);
  if (!("id" in found)) return { kind: "skip", line, code: found.code, namespace, id: null, message: found.message };
  const { id, source: idSource } = found;
  const key = `"id":${JSON.stringify(id)},"namespace":${JSON.stringify(namespace)}`;
  if (mapping.deleteField !== undefined && isDeleteMark(ownField(parsed, mapping.deleteField))) {
    const json = `{"action":"delete",${key}}`;
    const value = { action: "delete", id, namespace };
    return { kind: "op", line, json, bytes: utf8Bytes(json), action: "delete", namespace, id, idSource, value };
  }
  const bytes = utf8Bytes(JSON.stringify(parsed));
  if (bytes > MAX_RECORD_BYTES) {
    return tooLarge(line, namespace, id, bytes, "data");
  }
  const json = `{"action":"upsert",${key},"data":${trimmed}}`;
  return {
    kind: "op",
    line,
    json,
    bytes: utf8Bytes(json),
    action: "upsert",
    namespace,
    id,
    idSource,
    value: { action: "upsert", id, namespace, data: parsed },
  };
}
