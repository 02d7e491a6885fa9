import { setAtPath, toPlainObjects } from "./metadata-paths";
import { valueAtPath } from "./text";

/** Vectorize stores at most 10 KiB of metadata per vector. */
export const MAX_METADATA_BYTES = 10 * 1024;

export interface MetadataContext {
  organizationId: string;
  vectorStoreId: string;
  namespace: string;
  recordId: string;
}

const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/**
 * A record's vector metadata: the store's `metadata_fields` picked from data (scalars, or arrays
 * of strings), then the operation's own `metadata`, then the service's keys, which always win.
 * A dotted field or key is stored nested (`assignee.name` as `{assignee: {name}}`), as Vectorize
 * reads a dotted filter key; setAtPath.
 */
export function buildMetadata(
  ctx: MetadataContext,
  data: Record<string, unknown>,
  metadataFields: string[] | null,
  own: Record<string, VectorizeVectorMetadata> | null,
): Record<string, VectorizeVectorMetadata> {
  const metadata: Record<string, VectorizeVectorMetadata> = Object.create(null);
  let nested = false;
  for (const field of metadataFields ?? []) {
    const value = valueAtPath(data, field);
    if (isScalar(value) || (Array.isArray(value) && value.every((v) => typeof v === "string"))) {
      setAtPath(metadata, field, value);
      nested ||= field.includes(".");
    }
  }
  for (const [key, value] of Object.entries(own ?? {})) {
    setAtPath(metadata, key, value);
    nested ||= key.includes(".");
  }
  metadata.organization_id = ctx.organizationId;
  metadata.vector_store_id = ctx.vectorStoreId;
  metadata.namespace = ctx.namespace;
  metadata.record_id = ctx.recordId;
  metadata.chunk = 0;
  // A spread copies own keys (a `__proto__` key stays a key) into a plain object, which RPC can
  // serialise; nested objects, null-prototype too, need toPlainObjects.
  return nested ? (toPlainObjects(metadata) as Record<string, VectorizeVectorMetadata>) : { ...metadata };
}

/** UTF-8 bytes of the metadata as JSON, counted with the widest chunk number the record will carry. */
export function metadataBytes(metadata: Record<string, VectorizeVectorMetadata>, chunks: number): number {
  return new TextEncoder().encode(JSON.stringify({ ...metadata, chunk: Math.max(0, chunks - 1) })).byteLength;
}
