import { NAMESPACE_PATTERN, fieldErrors } from "../schemas/common";
import { MAX_RECORD_BYTES, SyncOperation, type OperationError } from "../schemas/sync";
import { sha256Base64 } from "../crypto";
import { canonicalJson } from "./canonical-json";
import { normalizeTimestamp } from "../timestamps";

/** An operation that passed validation, with what the planner and the ledger need precomputed. */
export interface ValidOperation {
  index: number;
  action: "upsert" | "delete";
  namespace: string;
  id: string;
  /** updated_at, else the request's sync_timestamp, normalised: the order operations apply in. */
  version: string;
  updatedAt: string | null;
  /** Upserts only: the stored columns and the content hash over them. */
  record?: RecordPayload;
}

export interface RecordPayload {
  data: string;
  file: string | null;
  createdAt: string | null;
  sourceSystem: string | null;
  /** The operation's own text, metadata (JSON) and vector, when it brought them. */
  text: string | null;
  metadata: string | null;
  vector: number[] | null;
  contentHash: string;
  /** data and file as parsed from the request, so that nothing parses them again. */
  parsed: { data: Record<string, unknown>; file: { file_relative_path?: string } | null };
}

/** An operation that failed validation; `key` is set when its namespace and id are usable. */
export interface FailedOperation {
  index: number;
  error: OperationError;
  key: { namespace: string; id: string } | null;
}

export type CheckedOperation = ({ ok: true } & ValidOperation) | ({ ok: false } & FailedOperation);

const utf8 = new TextEncoder();
/** Longest message of one operation's error: an answer's size must not follow the client's keys. */
export const MAX_ERROR_MESSAGE_CHARS = 300;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function describeIssues(issues: Record<string, string[]>): string {
  return Object.entries(issues)
    .map(([field, reasons]) => `${field}: ${reasons.join("; ")}`)
    .join(", ");
}

function identify(raw: unknown): { namespace: string | null; id: string | null; usable: boolean } {
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const namespace = typeof obj.namespace === "string" ? obj.namespace : null;
  const id = typeof obj.id === "string" ? obj.id : null;
  const usable =
    namespace !== null && NAMESPACE_PATTERN.test(namespace) && id !== null && id.length >= 1 && id.length <= 255 && id.isWellFormed();
  return { namespace, id, usable };
}

function failure(index: number, raw: unknown, code: string, message: string): CheckedOperation {
  const who = identify(raw);
  return {
    ok: false,
    index,
    key: who.usable ? { namespace: who.namespace!, id: who.id! } : null,
    error: {
      index,
      // Echo only what identifies the operation, clipped: an error list must not balloon.
      id: who.id === null ? null : who.id.slice(0, 255),
      namespace: who.namespace === null ? null : who.namespace.slice(0, 64),
      code,
      // Messages can quote client keys (a path through data): clipped like the id.
      message: clip(message, MAX_ERROR_MESSAGE_CHARS),
    },
  };
}

/** Validates each operation on its own, so one bad operation fails alone (counted, reported). */
export async function checkOperations(operations: unknown[], syncTimestamp: string, dimensions: number): Promise<CheckedOperation[]> {
  const defaultVersion = normalizeTimestamp(syncTimestamp);
  return Promise.all(
    operations.map(async (raw, index): Promise<CheckedOperation> => {
      const parsed = SyncOperation.safeParse(raw);
      if (!parsed.success) {
        const onlyVector = parsed.error.issues.every((issue) => issue.path[0] === "vector");
        return failure(index, raw, onlyVector ? "INVALID_VECTOR" : "INVALID_OPERATION", describeIssues(fieldErrors(parsed.error)));
      }
      const op = parsed.data;
      const base = {
        ok: true as const,
        index,
        action: op.action,
        namespace: op.namespace,
        id: op.id,
        version: op.updated_at ? normalizeTimestamp(op.updated_at) : defaultVersion,
        updatedAt: op.updated_at ?? null,
      };
      if (op.action === "delete") return base;

      if (op.vector && op.vector.length !== dimensions) {
        return failure(
          index,
          raw,
          "INVALID_VECTOR",
          `vector has ${op.vector.length} dimensions; this vector store's embeddings have ${dimensions}`,
        );
      }
      const data = JSON.stringify(op.data);
      const file = op.file ? JSON.stringify(op.file) : null;
      const metadata = op.metadata ? JSON.stringify(op.metadata) : null;
      const text = op.text ?? null;
      const bytes = [data, file, metadata, text].reduce((sum, part) => sum + (part ? utf8.encode(part).byteLength : 0), 0);
      if (bytes > MAX_RECORD_BYTES) {
        return failure(
          index,
          raw,
          "RECORD_TOO_LARGE",
          `record is ${bytes} bytes (data, file, metadata and text); the limit is ${MAX_RECORD_BYTES}`,
        );
      }
      const createdAt = op.created_at ?? null;
      const sourceSystem = op.source_system ?? null;
      const vector = op.vector ?? null;
      // updated_at is left out on purpose: a record re-sent with a newer timestamp but the same
      // content is unchanged and costs no rewrite and no embedding (its version still advances).
      const contentHash = await sha256Base64(
        canonicalJson({
          data: op.data,
          file: op.file ?? null,
          created_at: createdAt,
          source_system: sourceSystem,
          text,
          metadata: op.metadata ?? null,
          vector,
        }),
      );
      return {
        ...base,
        record: {
          data,
          file,
          createdAt,
          sourceSystem,
          text,
          metadata,
          vector,
          contentHash,
          parsed: { data: op.data, file: op.file ?? null },
        },
      };
    }),
  );
}
