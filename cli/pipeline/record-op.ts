/**
 * One pipeline record (its data as parsed, and as the exact text it arrived in) to one sync
 * operation. The data text goes into the operation unprinted, so every number reaches the service
 * as the source wrote it.
 */
import { isPlainObject } from "../../src/schemas/common";
import { MAX_RECORD_BYTES } from "../../src/schemas/sync";
import { contentId, keyId } from "./record-id";
import type { PipelineOp } from "./writer";

export type RecordResult = { op: PipelineOp } | { skip: string } | { error: string };

export interface RecordTarget {
  namespace: string;
  /** Key paths (empty: the id is a content hash). */
  keyPaths: readonly (readonly string[])[];
  /** A record whose own field of this name is present and not null is a delete (_ab_cdc_deleted_at, _sdc_deleted_at). */
  deleteField: string;
}

export function recordOperation(seq: number, target: RecordTarget, data: unknown, dataText: string): RecordResult {
  if (!isPlainObject(data)) return { error: "the record's data is not a JSON object" };
  const deleted = Object.hasOwn(data, target.deleteField) && data[target.deleteField] !== null && data[target.deleteField] !== undefined;
  let id: string;
  if (target.keyPaths.length > 0) {
    const r = keyId(data, target.keyPaths);
    if ("error" in r) return { error: r.error };
    id = r.id;
  } else if (deleted) {
    return { skip: `a delete (${target.deleteField} set) in a stream without a key cannot name the record it removes` };
  } else {
    id = contentId(dataText);
  }
  const head = `"id":${JSON.stringify(id)},"namespace":${JSON.stringify(target.namespace)}`;
  if (deleted) return { op: { seq, action: "delete", namespace: target.namespace, id, json: `{"action":"delete",${head}}` } };
  if (Object.keys(data).length === 0) return { error: "the record's data is empty (the service keeps non-empty objects)" };
  const bytes = Buffer.byteLength(dataText, "utf8");
  if (bytes > MAX_RECORD_BYTES) return { error: `the record is ${bytes} bytes of JSON; the service keeps at most ${MAX_RECORD_BYTES}` };
  return { op: { seq, action: "upsert", namespace: target.namespace, id, json: `{"action":"upsert",${head},"data":${dataText}}` } };
}
