/**
 * One JSON line to one sync operation, as the text that goes into the request body.
 *
 * The operation's JSON is the line's own text (or, for a raw record, the line's text as `data`):
 * it is never parsed and printed again, so a number is sent exactly as the source wrote it
 * (a 30-digit integer is not rounded on its way; the server then refuses it with its path).
 * The line is parsed only to check that it is JSON, to know its namespace and id, and to
 * measure the record as the server does (the UTF-8 bytes of data, file, metadata and text JSON).
 */
import { parseJsonExactly } from "../src/http/json-text";
import { isPlainObject } from "../src/schemas/common";
import { MAX_RECORD_BYTES } from "../src/schemas/sync";

export interface Mapping {
  /** Raw records: the namespace every record goes to, and the field holding its id. */
  namespace?: string;
  idField?: string;
  /** Raw records: a truthy value of this field makes the record a delete. */
  deleteField?: string;
}

export interface Operation {
  kind: "op";
  line: number;
  /** The operation as JSON text, ready to join into the request's operations array. */
  json: string;
  /** UTF-8 bytes of `json`. */
  bytes: number;
  action: string | null;
  namespace: string | null;
  id: string | null;
  /** The parsed operation (for --dry-run validation). */
  value: unknown;
}

export interface Skipped {
  kind: "skip";
  line: number;
  code: string;
  message: string;
  namespace: string | null;
  id: string | null;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** The server's measure of a record (src/sync/operations.ts): data, file, metadata and text JSON. */
export function recordBytes(op: Record<string, unknown>): number {
  let bytes = 0;
  for (const field of ["data", "file", "metadata"] as const) {
    if (op[field] !== undefined && op[field] !== null) bytes += utf8Bytes(JSON.stringify(op[field]) ?? "");
  }
  if (typeof op.text === "string") bytes += utf8Bytes(op.text);
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

function rawId(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
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
    const namespace = str(parsed.namespace);
    const id = str(parsed.id);
    const action = str(parsed.action);
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
  const id = rawId(parsed[idField]);
  if (id === null) {
    return {
      kind: "skip",
      line,
      code: "MISSING_ID",
      namespace,
      id: null,
      message: `field '${idField}' is missing or not a non-empty string or number`,
    };
  }
  const key = `"id":${JSON.stringify(id)},"namespace":${JSON.stringify(namespace)}`;
  if (mapping.deleteField !== undefined && isDeleteMark(parsed[mapping.deleteField])) {
    const json = `{"action":"delete",${key}}`;
    return { kind: "op", line, json, bytes: utf8Bytes(json), action: "delete", namespace, id, value: { action: "delete", id, namespace } };
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
    value: { action: "upsert", id, namespace, data: parsed },
  };
}
