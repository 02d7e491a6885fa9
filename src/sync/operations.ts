import { NAMESPACE_PATTERN, fieldErrors, isPlainObject } from "../schemas/common";
import { MAX_OPERATION_BYTES, MAX_RECORD_BYTES, MAX_VECTOR_DIMENSIONS, SyncOperation } from "../schemas/sync";
import { sha256Base64, sha256Base64OfBytes } from "../base/crypto";
import { describeFields } from "../base/errors";
import type { OperationErrorCode } from "../base/error-codes";
import { canonicalJsonOf } from "../base/json/canonical-json";
import { operationHashInput } from "./operation-hash";
import { normalizeTimestamp } from "../base/timestamps";
import { utf8Length } from "../base/json/json-chunks";
import { invalidJson, invalidUtf8 } from "../base/json/json-errors";
import { parseJsonExactly } from "../base/json/json-text";
import { operationBytes, operationCount, operationSlice, operationStrings, operationText } from "../base/json/sync-body";
import type { RecordPayload, CheckedOperation, OperationSource } from "../model/operations";
import { keyOf } from "../model/plan";
import { hashOperationBytes, operationSourceHash, unreadOperation, type UnchangedBytes } from "./unchanged-bytes";

/** Longest message of one operation's error: an answer's size must not follow the client's keys. */
export const MAX_ERROR_MESSAGE_CHARS = 300;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function identify(raw: unknown): { namespace: string | null; id: string | null; usable: boolean } {
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const namespace = typeof obj.namespace === "string" ? obj.namespace : null;
  const id = typeof obj.id === "string" ? obj.id : null;
  const usable =
    namespace !== null && NAMESPACE_PATTERN.test(namespace) && id !== null && id.length >= 1 && id.length <= 255 && id.isWellFormed();
  return { namespace, id, usable };
}

function failure(index: number, raw: unknown, code: OperationErrorCode, message: string): CheckedOperation {
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

function tooLarge(index: number, raw: unknown, bytes: number): CheckedOperation {
  return failure(
    index,
    raw,
    "RECORD_TOO_LARGE",
    `record is ${bytes} bytes (data, file, metadata and text); the limit is ${MAX_RECORD_BYTES}`,
  );
}

/** Operations validated synchronously before their content hashes are awaited together. */
const CHECK_BATCH = 64;

/**
 * Up to this many bytes of body, upserts keep their parsed `data` for text derivation (no second
 * parse); past it they keep only its JSON, so a large body is never held as objects at once.
 */
const KEEP_PARSED_BODY_BYTES = 8 * 1024 * 1024;

export interface CheckOptions {
  /** Also hash each operation as sent (canonical JSON), for an Idempotency-Key's body hash. */
  hashOperations?: boolean;
  /**
   * The bytes hashes, keys and ledger rows of a body's operations: an upsert whose bytes are its
   * record's last applied operation's is taken as unchanged unparsed (unreadOperation). Not with
   * hashOperations, whose canonical hash needs the parse.
   */
  unchanged?: UnchangedBytes;
}

export interface CheckedOperations {
  checked: CheckedOperation[];
  /** With hashOperations: SHA-256 (base64) of each operation's canonical JSON, in request order. */
  operationHashes: string[] | null;
}

/** The operation at `index`, parsed from the body when it comes as bytes (a body that is not JSON is refused whole). */
function operationAt(source: OperationSource, index: number): unknown {
  if (Array.isArray(source)) return source[index];
  let text: string;
  try {
    text = operationText(source, index);
  } catch {
    throw invalidUtf8();
  }
  try {
    return parseJsonExactly(text);
  } catch (err) {
    throw invalidJson(err, `operations[${index}]`);
  }
}

export function countOperations(source: OperationSource): number {
  return Array.isArray(source) ? source.length : operationCount(source);
}

/**
 * Validates each operation on its own, so one bad operation fails alone (counted, reported).
 * Works through the operations in batches: each is parsed (from bytes), validated and reduced to
 * the strings the ledger stores, and its object tree let go before the next batch, so memory
 * follows the batch and the kept strings, not the request.
 */
export async function checkOperations(
  source: OperationSource,
  syncTimestamp: string,
  dimensions: number,
  options: CheckOptions = {},
): Promise<CheckedOperations> {
  const defaultVersion = normalizeTimestamp(syncTimestamp);
  const count = countOperations(source);
  const keepParsed = Array.isArray(source) || source.bytes.byteLength <= KEEP_PARSED_BODY_BYTES;
  const checked: CheckedOperation[] = new Array(count);
  const operationHashes: string[] | null = options.hashOperations ? new Array(count) : null;
  const known = options.hashOperations || Array.isArray(source) ? undefined : options.unchanged;
  // Each upsert's bytes hash is kept in the ledger, so that the same bytes are known next time.
  const bytesHashes = Array.isArray(source) ? null : (known?.hashes ?? (await hashOperationBytes(source)));

  /** The full check of operation `index` (the bytes of a body are parsed here). */
  const checkFully = (index: number, pending: Promise<void>[]) => {
    const raw = operationAt(source, index);
    if (operationHashes) {
      pending.push(
        sha256Base64(operationHashInput(raw)).then((h) => {
          operationHashes[index] = h;
        }),
      );
    }
    const result = checkOne(raw, index, defaultVersion, dimensions, keepParsed);
    if ("hashInput" in result) {
      const { hashInput, operation } = result;
      if (bytesHashes) operation.sourceHash = operationSourceHash(bytesHashes[index]!, operation.updatedAt);
      checked[index] = operation;
      pending.push(
        sha256Base64(hashInput).then((h) => {
          operation.record!.contentHash = h;
        }),
      );
    } else checked[index] = result;
  };

  for (let from = 0; from < count; from += CHECK_BATCH) {
    const to = Math.min(count, from + CHECK_BATCH);
    const pending: Promise<void>[] = [];
    for (let index = from; index < to; index++) {
      const size = Array.isArray(source) ? 0 : operationBytes(source, index);
      if (!Array.isArray(source) && size > MAX_OPERATION_BYTES) {
        // Refused unread: parsing it is what would cost the memory. Its id and namespace are
        // read off its bytes; its hash (for an Idempotency-Key) is of the bytes as sent.
        const who = Object.fromEntries(operationStrings(source, index, ["id", "namespace"]));
        checked[index] = failure(
          index,
          who,
          "RECORD_TOO_LARGE",
          `operation is ${size} bytes of JSON; the limit is ${MAX_OPERATION_BYTES} (and ${MAX_RECORD_BYTES} for a record's data, file, metadata and text)`,
        );
        if (operationHashes) {
          pending.push(
            sha256Base64OfBytes(operationSlice(source, index)).then((h) => {
              operationHashes[index] = h;
            }),
          );
        }
        continue;
      }
      const unread = known ? unreadOperation(known, index, defaultVersion) : null;
      if (unread) checked[index] = unread;
      else checkFully(index, pending);
    }
    await Promise.all(pending);
  }
  // An operation known unchanged from its bytes must be its record's only operation in the request
  // (another one may change the record before it, and it has no content to write): any other takes
  // the full check after all.
  if (known) {
    const perKey = new Map<string, number>();
    const keyOfChecked = (op: CheckedOperation) =>
      op.ok ? keyOf(op.namespace, op.id) : op.key ? keyOf(op.key.namespace, op.key.id) : null;
    for (const op of checked) {
      const key = keyOfChecked(op);
      if (key !== null) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    const pending: Promise<void>[] = [];
    for (const op of checked) {
      if (op.ok && op.unread && perKey.get(keyOf(op.namespace, op.id))! > 1) checkFully(op.index, pending);
    }
    await Promise.all(pending);
  }
  return { checked, operationHashes };
}

/** One operation checked; an upsert also gives the canonical JSON its content hash is taken over. */
function checkOne(
  raw: unknown,
  index: number,
  defaultVersion: string,
  dimensions: number,
  keepParsed: boolean,
): CheckedOperation | { operation: CheckedOperation & { ok: true }; hashInput: string } {
  // The cheap checks first, on the operation as parsed: a vector's length and the record's size
  // before validation walks data, metadata and vector item by item.
  const sent = isPlainObject(raw) && raw.action === "upsert" ? raw : null;
  if (sent && Array.isArray(sent.vector) && sent.vector.length > MAX_VECTOR_DIMENSIONS) {
    return failure(index, raw, "INVALID_VECTOR", `vector must have at most ${MAX_VECTOR_DIMENSIONS} items`);
  }
  let data = sent && isPlainObject(sent.data) ? JSON.stringify(sent.data) : null;
  let metadata = sent && isPlainObject(sent.metadata) ? JSON.stringify(sent.metadata) : null;
  const sentText = sent && typeof sent.text === "string" ? sent.text : null;
  const sentBytes = [data, metadata, sentText].reduce((sum, part) => sum + (part ? utf8Length(part) : 0), 0);
  if (sentBytes > MAX_RECORD_BYTES) return tooLarge(index, raw, sentBytes);

  const parsed = SyncOperation.safeParse(raw);
  if (!parsed.success) {
    const onlyVector = parsed.error.issues.every((issue) => issue.path[0] === "vector");
    return failure(
      index,
      raw,
      onlyVector ? "INVALID_VECTOR" : "INVALID_OPERATION",
      describeFields(fieldErrors(parsed.error, raw, "operation")),
    );
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
  // Validation keeps data and metadata as sent (the same objects): their JSON above stands.
  data ??= JSON.stringify(op.data);
  const file = op.file ? JSON.stringify(op.file) : null;
  metadata = op.metadata ? (metadata ?? JSON.stringify(op.metadata)) : null;
  const text = op.text ?? null;
  const bytes = [data, file, metadata, text].reduce((sum, part) => sum + (part ? utf8Length(part) : 0), 0);
  if (bytes > MAX_RECORD_BYTES) return tooLarge(index, raw, bytes);
  const createdAt = op.created_at ?? null;
  const sourceSystem = op.source_system ?? null;
  const vector = op.vector ?? null;
  // updated_at is left out on purpose: a record re-sent with a newer timestamp but the same
  // content is unchanged and costs no rewrite and no embedding (its version still advances).
  // canonicalJson({ data, file, created_at, source_system, text, metadata, vector }), written out
  // in its sorted key order so that data (and file, metadata) are not serialised a second time.
  const hashInput =
    `{"created_at":${JSON.stringify(createdAt)},"data":${canonicalJsonOf(op.data, data)},` +
    `"file":${file === null ? "null" : canonicalJsonOf(op.file, file)},` +
    `"metadata":${metadata === null ? "null" : canonicalJsonOf(op.metadata, metadata)},` +
    `"source_system":${JSON.stringify(sourceSystem)},"text":${JSON.stringify(text)},"vector":${JSON.stringify(vector)}}`;
  const record: RecordPayload = { data, file, createdAt, sourceSystem, text, metadata, vector, contentHash: "" };
  if (keepParsed) record.parsed = { data: op.data, file: op.file ?? null };
  return { operation: { ...base, record }, hashInput };
}
